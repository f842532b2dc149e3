import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FrameRing } from '../src/cluster/frame-ring.js'
import { FrameSlab, frameText } from '../src/frame.js'

const BEFORE = Buffer.from('{"seq":')
const slab = new FrameSlab()

/** A run of events `first`..`last`, each one's text after the seq being `}`. */
function run(first: number, last: number): Buffer {
  const offsets = Array.from({ length: last - first + 2 }, (_, i) => i)
  return slab.eventRun(BEFORE, first, Buffer.from('}'.repeat(last - first + 1)), offsets, 0)
}

const seqsOf = (frames: Buffer[]): number[] => frames.map((frame) => JSON.parse(frameText(frame)).seq)

test('the ring keeps each frame of the runs pushed and cuts them out again in order', () => {
  const ring = new FrameRing(10)
  assert.equal(ring.push(1, run(1, 3)), 3)
  assert.equal(ring.push(4, run(4, 4)), 4)
  assert.equal(ring.push(5, run(5, 8)), 8)
  assert.deepEqual(seqsOf(ring.after(0)), [1, 2, 3, 4, 5, 6, 7, 8])
  assert.deepEqual(seqsOf(ring.after(2)), [3, 4, 5, 6, 7, 8])
  assert.deepEqual([ring.firstSeq, ring.lastSeq], [1, 8])
})

test('once full, the ring holds the newest frames, even from the middle of a run', () => {
  const ring = new FrameRing(4)
  ring.push(1, run(1, 3))
  ring.push(4, run(4, 9))
  assert.deepEqual(seqsOf(ring.after(0)), [6, 7, 8, 9])
  assert.deepEqual([ring.firstSeq, ring.lastSeq], [6, 9])
})

test('a run that does not follow the last seq starts the ring afresh', () => {
  const ring = new FrameRing(10)
  ring.push(1, run(1, 3))
  ring.push(7, run(7, 8))
  assert.deepEqual(seqsOf(ring.after(0)), [7, 8])
})

test('capacity 0 keeps no frame and still counts seqs', () => {
  const ring = new FrameRing(0)
  assert.equal(ring.push(1, run(1, 5)), 5)
  assert.deepEqual(ring.after(0), [])
  assert.equal(ring.lastSeq, 5)
})
