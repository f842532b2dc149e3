import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DeliveryChecker, type Segment } from './soak/checker.js'

/** The soak's "nothing lost" rules, on the cases a cluster adds: catching up, resuming, and a cut. */

/** A segment on 'orders' whose subscribe was acknowledged now. */
function subscribed(checker: DeliveryChecker): Segment {
  const segment = checker.open('orders', 'sub', 0, 50)
  segment.ackAt = checker.now()
  return segment
}

/** Publishes seqs from..to, each sent and acknowledged now. */
function publish(checker: DeliveryChecker, from: number, to: number): void {
  for (let seq = from; seq <= to; seq++) checker.acked('orders', seq, `id-${seq}`, checker.now())
}

const deliver = (checker: DeliveryChecker, segment: Segment, from: number, to: number): void => {
  for (let seq = from; seq <= to; seq++) checker.event(segment, seq, `id-${seq}`)
}

test('a segment has caught up once its highest required seq arrived, and not before', () => {
  const checker = new DeliveryChecker()
  const segment = subscribed(checker)
  assert.ok(segment.caughtUp, 'nothing required yet')
  publish(checker, 1, 3)
  deliver(checker, segment, 1, 2)
  assert.ok(!segment.caughtUp)
  deliver(checker, segment, 3, 3)
  assert.ok(segment.caughtUp)
})

test('a segment resumes from its last seq, or from the head it subscribed at when nothing arrived', () => {
  const checker = new DeliveryChecker()
  const segment = subscribed(checker)
  segment.head = 7
  assert.equal(segment.resumeSeq, 7)
  deliver(checker, segment, 8, 9)
  assert.equal(segment.resumeSeq, 9)
})

test('a resumed segment that misses one seq across the resume is a loss', () => {
  const checker = new DeliveryChecker()
  const segment = subscribed(checker)
  publish(checker, 1, 10)
  deliver(checker, segment, 1, 4)
  // The node dies; the resume replays from one seq too far.
  deliver(checker, segment, 6, 10)
  segment.endAt = checker.now()
  checker.settle(segment)
  assert.equal(checker.lost, 1)
  assert.equal(checker.failures.length, 1)
})

test('a cut segment is judged on what arrived only: a gap fails, a missing tail does not', () => {
  const checker = new DeliveryChecker()
  const whole = subscribed(checker)
  const gapped = subscribed(checker)
  publish(checker, 1, 10)
  deliver(checker, whole, 1, 4)
  deliver(checker, gapped, 1, 2)
  deliver(checker, gapped, 4, 4)
  checker.cut(whole)
  checker.cut(gapped)
  assert.equal(checker.segmentsCut, 2)
  assert.equal(checker.lost, 1)
  assert.deepEqual(checker.openSegments(), [])
})
