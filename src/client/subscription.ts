import { Emitter, rethrowLater } from './emitter.js'
import { stepOf, type Step } from './position.js'
import type { EventFrame, Position } from './protocol.js'
import type { PubSubError } from './errors.js'

/** One event as the callback gets it; `payload` has the type the app declared for the topic. */
export type PubSubEvent<T = unknown> = { topic: string; epoch: string; seq: number; id: string; payload: T; ts: string }

export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed'

/** Known reasons; a newer server may send others. */
export type ResetReason = 'epoch_mismatch' | 'history_truncated' | 'seq_ahead' | 'topic_deleted' | (string & {})

export type SubscriptionEvents = {
  /** The subscription could not resume from its position: events were missed, the app should reload. */
  reset: { reason: ResetReason }
  state: SubscriptionState
  /** The subscription ended because the server refused it (it is 'unsubscribed' by then). */
  error: PubSubError
}

/** What the app holds: read-only state, events, and the way out. */
export interface Subscription {
  readonly topic: string
  readonly state: SubscriptionState
  /** The position of the last event handed to the callback: persist it to resume later with `since`. */
  readonly position: Position | undefined
  on<K extends keyof SubscriptionEvents>(name: K, listener: (value: SubscriptionEvents[K]) => void): () => void
  unsubscribe(): void
}

/** The client's side of a subscription; the client drives its state. */
export class TopicSubscription extends Emitter<SubscriptionEvents> implements Subscription {
  state: SubscriptionState = 'subscribing'
  /** The subscribe request whose ack this subscription waits for or went live with. */
  requestId: string | undefined

  constructor(
    readonly topic: string,
    private readonly callback: (event: PubSubEvent) => void,
    readonly lastN: number | undefined,
    public position: Position | undefined,
    private readonly leave: (subscription: TopicSubscription) => void,
  ) {
    super()
  }

  unsubscribe(): void {
    this.leave(this)
  }

  setState(state: SubscriptionState): void {
    if (state === this.state) return
    this.state = state
    this.emit('state', state)
  }

  /** Ends the subscription; no event reaches the callback after this, not even one already received. */
  end(error?: PubSubError, reset?: ResetReason): void {
    this.requestId = undefined
    this.setState('unsubscribed')
    if (reset !== undefined) this.emit('reset', { reason: reset })
    if (error) this.emit('error', error)
  }

  reset(reason: ResetReason): void {
    this.emit('reset', { reason })
  }

  /**
   * Hands the next event to the callback, having moved the position first: a
   * callback that persists the position, or resubscribes, sees this event as
   * processed. Old events are dropped; a gap is the caller's to repair.
   */
  take(event: EventFrame): Step {
    const position = this.position
    if (this.state !== 'subscribed' || !position) return 'old'
    const step = stepOf(position, event.seq)
    if (step !== 'next') return step
    this.position = { epoch: position.epoch, seq: event.seq }
    try {
      this.callback({ topic: this.topic, epoch: position.epoch, seq: event.seq, id: event.id, payload: event.payload, ts: event.ts })
    } catch (error) {
      rethrowLater(error)
    }
    return step
  }
}
