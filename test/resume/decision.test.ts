import assert from 'node:assert/strict'
import { test } from 'node:test'
import { epochSource } from '../../src/broker/epoch.js'
import { decideResume, planReplay, type TopicPosition } from '../../src/broker/resume.js'
import { isEpoch } from '../../src/protocol.js'

/** A topic in epoch 'e1' at head H, holding F..H (F = H + 1 when it holds nothing). */
const at = (head: number, firstSeq: number): TopicPosition => ({ epoch: 'e1', head, firstSeq })
/** History 50, 100 events: 51..100 held. */
const full = at(100, 51)

test('a position in another epoch is epoch_mismatch, whatever its seq', () => {
  for (const seq of [0, 50, 100, 150]) {
    assert.deepEqual(decideResume({ epoch: 'e0', seq }, full), { recovered: false, reason: 'epoch_mismatch' })
  }
})

test('a seq beyond the head is seq_ahead', () => {
  assert.deepEqual(decideResume({ epoch: 'e1', seq: 101 }, full), { recovered: false, reason: 'seq_ahead' })
  assert.deepEqual(decideResume({ epoch: 'e1', seq: 1 }, at(0, 1)), { recovered: false, reason: 'seq_ahead' })
})

test('a seq before the oldest held one minus one is history_truncated', () => {
  assert.deepEqual(decideResume({ epoch: 'e1', seq: 49 }, full), { recovered: false, reason: 'history_truncated' })
  assert.deepEqual(decideResume({ epoch: 'e1', seq: 0 }, full), { recovered: false, reason: 'history_truncated' })
})

test('a seq from F - 1 to H is recovered', () => {
  for (const seq of [50, 51, 99, 100]) assert.deepEqual(decideResume({ epoch: 'e1', seq }, full), { recovered: true })
  assert.deepEqual(decideResume({ epoch: 'e1', seq: 0 }, at(30, 1)), { recovered: true })
  assert.deepEqual(decideResume({ epoch: 'e1', seq: 0 }, at(0, 1)), { recovered: true })
})

test('with nothing held (history 0), only the head itself is recovered', () => {
  const empty = at(100, 101)
  assert.deepEqual(decideResume({ epoch: 'e1', seq: 100 }, empty), { recovered: true })
  assert.deepEqual(decideResume({ epoch: 'e1', seq: 99 }, empty), { recovered: false, reason: 'history_truncated' })
})

test('the epoch is checked first, then the head, then what is held', () => {
  // A restarted server whose head equals the old seq is still another history.
  assert.deepEqual(decideResume({ epoch: 'old', seq: 100 }, full), { recovered: false, reason: 'epoch_mismatch' })
  assert.deepEqual(decideResume({ epoch: 'e1', seq: 101 }, at(100, 101)), { recovered: false, reason: 'seq_ahead' })
})

test('a resumed replay is S+1..H', () => {
  assert.deepEqual(planReplay({ lastN: 0, since: { epoch: 'e1', seq: 50 } }, full), { afterSeq: 50, resume: { recovered: true } })
  assert.deepEqual(planReplay({ lastN: 5, since: { epoch: 'e1', seq: 100 } }, full), { afterSeq: 100, resume: { recovered: true } })
})

test('a failed resume falls back to last_n, and to nothing without it', () => {
  const truncated = { recovered: false, reason: 'history_truncated' }
  assert.deepEqual(planReplay({ lastN: 10, since: { epoch: 'e1', seq: 49 } }, full), { afterSeq: 90, resume: truncated })
  assert.deepEqual(planReplay({ lastN: 0, since: { epoch: 'e1', seq: 49 } }, full), { afterSeq: 100, resume: truncated })
  const mismatch = { recovered: false, reason: 'epoch_mismatch' }
  assert.deepEqual(planReplay({ lastN: 3, since: { epoch: 'e0', seq: 2 } }, at(2, 1)), { afterSeq: 0, resume: mismatch })
})

test('last_n alone replays the newest n held, never below what is held', () => {
  assert.deepEqual(planReplay({ lastN: 10 }, full), { afterSeq: 90 })
  assert.deepEqual(planReplay({ lastN: 500 }, full), { afterSeq: 50 })
  assert.deepEqual(planReplay({ lastN: Number.MAX_SAFE_INTEGER }, at(3, 1)), { afterSeq: 0 })
  assert.deepEqual(planReplay({ lastN: 0 }, full), { afterSeq: 100 })
})

test('epochs are valid on the wire, new on every create, and new for every source', () => {
  const first = epochSource()
  const seen = new Set<string>()
  for (let i = 0; i < 1_000; i++) {
    const epoch = first()
    assert.ok(isEpoch(epoch), epoch)
    seen.add(epoch)
  }
  assert.equal(seen.size, 1_000)
  // A restarted server builds a new source: none of its epochs repeats one of the old.
  const restarted = epochSource()
  for (let i = 0; i < 1_000; i++) assert.ok(!seen.has(restarted()))
})
