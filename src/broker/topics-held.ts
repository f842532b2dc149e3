import type { Subscriber } from './topic.js'

/**
 * The topics each subscriber holds: the broker's reverse index, so dropping a
 * subscriber touches only its own topics. Most subscribers hold one topic,
 * which is kept as it is; a Set is made only for a second one, since even an
 * empty Set costs ~150 bytes, ~2 MB at 15,000 connections.
 */
export class TopicsHeld<T extends object> {
  private readonly held = new Map<Subscriber, T | Set<T> | undefined>()

  count(subscriber: Subscriber): number {
    const held = this.held.get(subscriber)
    return held === undefined ? 0 : held instanceof Set ? held.size : 1
  }

  add(subscriber: Subscriber, topic: T): void {
    const held = this.held.get(subscriber)
    if (held === undefined) this.held.set(subscriber, topic)
    else if (held instanceof Set) held.add(topic)
    else if (held !== topic) this.held.set(subscriber, new Set([held, topic]))
  }

  /**
   * The subscriber's entry stays, emptied, until take(): deleting and adding
   * keys over and over makes V8 rehash a large Map, a cost that grows with the
   * number of other subscribers.
   */
  remove(subscriber: Subscriber, topic: T): void {
    const held = this.held.get(subscriber)
    if (held === topic) this.held.set(subscriber, undefined)
    else if (held instanceof Set) held.delete(topic)
  }

  /** What the subscriber holds, without forgetting it. */
  list(subscriber: Subscriber): T[] {
    const held = this.held.get(subscriber)
    if (held === undefined) return []
    return held instanceof Set ? [...held] : [held]
  }

  /** Forgets the subscriber; returns what it held. */
  take(subscriber: Subscriber): T[] {
    const held = this.held.get(subscriber)
    if (held === undefined) return []
    this.held.delete(subscriber)
    return held instanceof Set ? [...held] : [held]
  }
}
