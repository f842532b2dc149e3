import { encodeEvent, encodeInfo, fail, ok, type Result } from '../protocol.js'
import { History } from './history.js'

/** What the broker needs from a connection: an id and a way to hand it bytes. */
export interface Subscriber {
  readonly id: string
  send(bytes: Buffer): void
}

export type Published = { id: string; seq: number; subscribers: number }

/** One topic: its sequence counter, subscribers and replay history. */
export class Topic {
  private seq = 0
  readonly subscribers = new Set<Subscriber>()
  private readonly history: History<Buffer>

  constructor(readonly name: string, historyCapacity: number) {
    this.history = new History(historyCapacity)
  }

  /** Messages published since the topic was created. */
  get messages(): number {
    return this.seq
  }

  /**
   * Encodes the event once; history and every subscriber share that one Buffer,
   * so a replayed event is byte-for-byte the live one.
   */
  publish(id: string, payload: unknown, ts: number): Result<Published> {
    const seq = this.seq + 1
    const bytes = encode({ topic: this.name, seq, id, payload, ts })
    // The seq is taken only once the event exists: a refused payload must not leave a gap.
    if (bytes === undefined) return fail('BAD_REQUEST', 'the message payload is nested too deeply to encode: send a flatter JSON value')
    this.seq = seq
    this.history.push(bytes)
    for (const subscriber of this.subscribers) subscriber.send(bytes)
    return ok({ id, seq, subscribers: this.subscribers.size })
  }

  replay(lastN: number): Buffer[] {
    return this.history.last(lastN)
  }

  /** Tells every subscriber the topic is gone; the broker drops the subscriptions. */
  announceDeletion(ts: number): void {
    const bytes = encodeInfo(this.name, 'topic_deleted', ts)
    for (const subscriber of this.subscribers) subscriber.send(bytes)
  }
}

/**
 * JSON.parse accepts any depth but JSON.stringify recurses, so a deeply nested
 * payload parses fine and then overflows the stack here: that is the client's
 * mistake, answered as such, not a server fault.
 */
function encode(fields: Parameters<typeof encodeEvent>[0]): Buffer | undefined {
  try {
    return encodeEvent(fields)
  } catch (error) {
    if (error instanceof RangeError) return undefined
    throw error
  }
}
