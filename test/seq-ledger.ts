import assert from 'node:assert/strict'
import type { Frame } from './helpers.js'

/**
 * What one subscriber received, per topic: every event must carry the seq right
 * after the previous one, so a gap, a duplicate or a reorder fails at once.
 */
export class SeqLedger {
  private readonly lastSeq = new Map<string, number>()
  private readonly ids = new Map<string, Map<number, string>>()
  /** Events checked so far, over every topic. */
  checked = 0

  /** Declares that the next event on `topic` must be `lastSeen + 1` (0 for a topic created empty). */
  expect(topic: string, lastSeen: number): void {
    this.lastSeq.set(topic, lastSeen)
    this.ids.set(topic, new Map())
  }

  record(event: Frame): void {
    const topic = event.topic ?? ''
    const seq = event.seq ?? 0
    const last = this.lastSeq.get(topic)
    assert.ok(last !== undefined, `event on '${topic}', which this subscriber does not follow`)
    assert.equal(seq, last + 1, `'${topic}': seq ${seq} arrived after ${last} (gap, duplicate or reorder)`)
    this.lastSeq.set(topic, seq)
    this.ids.get(topic)?.set(seq, event.message?.id ?? '')
    this.checked++
  }

  /** Fails unless the event with `seq` on `topic` arrived and carried `id`. */
  assertReceived(topic: string, seq: number, id: string): void {
    assert.equal(this.ids.get(topic)?.get(seq), id, `'${topic}' seq ${seq} (id ${id}) was acknowledged but not delivered`)
  }

  last(topic: string): number | undefined {
    return this.lastSeq.get(topic)
  }
}
