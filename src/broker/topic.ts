import { FrameSlab, textFrame } from '../frame.js'
import { encodeEvent, encodeInfo, ok, type ReplayRequest, type Result } from '../protocol.js'
import { History } from './history.js'
import { planReplay, type ResumeOutcome, type TopicPosition } from './resume.js'

/** What the broker needs from a connection: a way to hand it a frame. */
export interface Subscriber {
  send(frame: Buffer): void
}

export type Published = { id: string; seq: number; epoch: string; subscribers: number }

/** The events a request replays, with where the topic stood when they were taken. */
export type Replay = { epoch: string; seq: number; events: Buffer[]; resume?: ResumeOutcome }

/** One incarnation of a topic: its epoch, sequence counter, subscribers and replay history. */
export class Topic {
  private seq = 0
  readonly subscribers = new Set<Subscriber>()
  private readonly history: History<Buffer>
  /** Events kept in history get memory of their own; without history, Node's shared pool serves. */
  private readonly eventFrame: (text: string) => Buffer

  constructor(readonly name: string, readonly epoch: string, historyCapacity: number) {
    this.history = new History(historyCapacity)
    const slab = historyCapacity > 0 ? new FrameSlab() : undefined
    this.eventFrame = slab ? (text) => slab.frame(text) : textFrame
  }

  /** Messages published since the topic was created. */
  get messages(): number {
    return this.seq
  }

  get position(): TopicPosition {
    return { epoch: this.epoch, head: this.seq, firstSeq: this.history.firstSeq }
  }

  /**
   * Encodes the event once, as its WebSocket frame; history and every
   * subscriber share that one Buffer, so a replayed event is byte-for-byte
   * the live one.
   */
  publish(id: string, payload: unknown, ts: number): Result<Published> {
    // Encode before taking the seq: a payload that cannot be encoded must not leave a gap.
    const encoded = encodeEvent({ topic: this.name, seq: this.seq + 1, id, payload, ts }, this.eventFrame)
    if (!encoded.ok) return encoded
    const frame = encoded.value
    const seq = ++this.seq
    this.history.push(seq, frame)
    for (const subscriber of this.subscribers) subscriber.send(frame)
    return ok({ id, seq, epoch: this.epoch, subscribers: this.subscribers.size })
  }

  replay(request: ReplayRequest): Replay {
    const plan = planReplay(request, this.position)
    const replay: Replay = { epoch: this.epoch, seq: this.seq, events: this.history.after(plan.afterSeq) }
    if (plan.resume) replay.resume = plan.resume
    return replay
  }

  /** Tells every subscriber the topic is gone; the broker drops the subscriptions. */
  announceDeletion(ts: number): void {
    const frame = encodeInfo(this.name, 'topic_deleted', ts)
    for (const subscriber of this.subscribers) subscriber.send(frame)
  }
}
