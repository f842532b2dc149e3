import type { ClientState, PubSubClient, PubSubEvent } from '../../src/client/index.js'
import { within } from '../helpers.js'

/** Collects what a subscription's callback is handed, and lets a test await a count. */
export class Recorder {
  readonly seqs: number[] = []
  readonly payloads: unknown[] = []
  private waiters: { count: number; resolve(): void }[] = []

  readonly callback = (event: PubSubEvent): void => {
    this.seqs.push(event.seq)
    this.payloads.push(event.payload)
    const due = this.waiters.filter((w) => this.seqs.length >= w.count)
    this.waiters = this.waiters.filter((w) => this.seqs.length < w.count)
    for (const waiter of due) waiter.resolve()
  }

  /** Resolves once the callback has run `count` times in all. */
  reached(count: number, ms?: number): Promise<void> {
    if (this.seqs.length >= count) return Promise.resolve()
    return within(new Promise<void>((resolve) => this.waiters.push({ count, resolve })), `${count} events (have ${this.seqs.length})`, ms)
  }
}

/** Resolves when the client enters `state` (at once if it is there). */
export function entered(client: PubSubClient, state: ClientState, ms?: number): Promise<void> {
  if (client.state === state) return Promise.resolve()
  return within(new Promise<void>((resolve) => {
    const off = client.on('state', (now) => {
      if (now !== state) return
      off()
      resolve()
    })
  }), `the client to be ${state}`, ms)
}

/** 1..n, the seqs a subscriber of a topic's whole life must have seen. */
export const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1)
