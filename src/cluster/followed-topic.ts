import { planReplay, type TopicPosition } from '../broker/resume.js'
import type { Replay, Subscriber } from '../broker/topic.js'
import { FrameSlab } from '../frame.js'
import { eventTextBeforeSeq, type ReplayRequest } from '../protocol.js'
import type { TopicKeys } from './keys.js'
import { FrameRing } from './frame-ring.js'
import type { ChannelMessage, StoredEvent, TextRun } from './replies.js'

/**
 * Why a node stopped following a topic: it was deleted (or replaced by a new
 * incarnation), its history no longer covers what the node missed, it never
 * existed, Redis could not be reached for the first read, or nobody here
 * subscribes to it any more.
 */
export type Ending = 'topic_deleted' | 'resync_required' | 'not_found' | 'unavailable' | 'idle'

type Waiter = { seq: number; since: number; resolve(): void }

/**
 * A topic this node has subscribers for: its incarnation, the last seq handed
 * to them, the ring of recent frames that subscribe replays from, and the
 * messages that arrive while the node catches up with the stored history.
 */
export class FollowedTopic {
  /** Empty until the first read from Redis. */
  epoch = ''
  head = 0
  readonly subscribers = new Set<Subscriber>()
  /** Subscribes in flight, counted in this node's share of the subscriber count. */
  joining = 0
  /** Messages held back while catching up; undefined while live. */
  pending: ChannelMessage[] | undefined = []
  ending: Ending | undefined
  /** The catch-up under way, if any, and whether another must follow it. */
  catchingUp: Promise<void> | undefined
  catchUpAgain = false
  /** The head Redis reported at the last check: not reached by the next one means events went missing. */
  headSeen = 0
  /** Resolves when the first read is over, whatever its outcome. */
  readonly ready: Promise<void>
  readonly markReady: () => void
  private readonly ring: FrameRing
  private readonly slab = new FrameSlab()
  private waiters: Waiter[] = []
  /** The text before the seq of every event of this topic, in UTF-8: Redis holds only the text after it. */
  private readonly beforeSeq: Buffer

  constructor(readonly name: string, readonly keys: TopicKeys, historyCapacity: number) {
    this.beforeSeq = Buffer.from(eventTextBeforeSeq(name))
    this.ring = new FrameRing(historyCapacity)
    let markReady = (): void => {}
    this.ready = new Promise<void>((resolve) => { markReady = resolve })
    this.markReady = markReady
  }

  /** Takes the topic's state from its first read: the incarnation, the head and the held events. */
  start(epoch: string, head: number, events: StoredEvent[]): void {
    this.epoch = epoch
    this.head = head
    for (const { seq, afterSeq } of events) this.ring.push(seq, this.slab.eventRun(this.beforeSeq, seq, afterSeq, [0, afterSeq.length], 0))
  }

  /**
   * Appends the events of `texts` from index `from` on (event `i` has seq
   * `first` + `i`) to the ring and returns their frames back to back, the
   * same Buffer for every subscriber.
   */
  append(first: number, { bytes, offsets }: TextRun, from: number): Buffer {
    const run = this.slab.eventRun(this.beforeSeq, first, bytes, offsets, from)
    this.head = this.ring.push(first + from, run)
    this.releaseWaiters()
    return run
  }

  /** F is the ring's first seq: the ring holds what the stored history holds (both trimmed to the same size). */
  get position(): TopicPosition {
    return { epoch: this.epoch, head: this.head, firstSeq: this.ring.lastSeq === this.head ? this.ring.firstSeq : this.head + 1 }
  }

  replay(request: ReplayRequest): Replay {
    return replayOf(request, this.position, (afterSeq) => this.ring.after(afterSeq))
  }

  /** Resolves once the event `seq` has been handed to this node's subscribers, or the topic is left. */
  reached(seq: number, now: number): Promise<void> {
    if (this.head >= seq || this.ending !== undefined) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ seq, since: now, resolve }))
  }

  /** True when someone has waited since before `time` for an event that has not come. */
  waitingSince(time: number): boolean {
    return this.waiters.length > 0 && (this.waiters[0] as Waiter).since < time
  }

  get hasWaiters(): boolean {
    return this.waiters.length > 0
  }

  end(ending: Ending): void {
    this.ending = ending
    this.pending = undefined
    this.releaseWaiters()
    this.markReady()
  }

  /** Called at every event: allocates nothing unless some waiter is done. */
  private releaseWaiters(): void {
    const waiters = this.waiters
    let anyDone = this.ending !== undefined
    for (let i = 0; !anyDone && i < waiters.length; i++) anyDone = (waiters[i] as Waiter).seq <= this.head
    if (!anyDone) return
    const isDone = (w: Waiter): boolean => this.ending !== undefined || w.seq <= this.head
    this.waiters = waiters.filter((w) => !isDone(w))
    for (const waiter of waiters) if (isDone(waiter)) waiter.resolve()
  }
}

/** The replay a request asks for, from a topic's position and a way to take the events after a seq. */
export function replayOf(request: ReplayRequest, position: TopicPosition, eventsAfter: (seq: number) => Buffer[]): Replay {
  const plan = planReplay(request, position)
  const replay: Replay = { epoch: position.epoch, seq: position.head, events: eventsAfter(plan.afterSeq) }
  if (plan.resume) replay.resume = plan.resume
  return replay
}
