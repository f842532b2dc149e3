import assert from 'node:assert/strict'
import { test } from 'node:test'
import { History } from '../src/broker/history.js'

/** A ring of the given capacity after items 1..count were pushed, each numbered as itself. */
const filled = (capacity: number, count: number): History<number> => {
  const history = new History<number>(capacity)
  for (let i = 1; i <= count; i++) history.push(i, i)
  return history
}

test('after(seq) returns the held items numbered above seq, oldest first', () => {
  assert.deepEqual(filled(5, 4).after(2), [3, 4])
  assert.deepEqual(filled(5, 4).after(0), [1, 2, 3, 4])
})

test('the ring keeps only the newest items once it wraps around', () => {
  const history = filled(3, 7)
  assert.equal(history.size, 3)
  assert.deepEqual(history.after(0), [5, 6, 7])
  assert.deepEqual(history.after(6), [7])
})

test('wrap-around stays in order across many laps', () => {
  const history = filled(4, 1_003)
  assert.deepEqual(history.after(0), [1_000, 1_001, 1_002, 1_003])
  assert.deepEqual(history.after(1_001), [1_002, 1_003])
})

test('capacity 0 keeps nothing and still counts seqs', () => {
  const history = filled(0, 10)
  assert.equal(history.size, 0)
  assert.deepEqual(history.after(0), [])
  assert.equal(history.lastSeq, 10)
  assert.equal(history.firstSeq, 11)
})

test('capacity 1 keeps only the latest item', () => {
  const history = filled(1, 3)
  assert.equal(history.size, 1)
  assert.deepEqual(history.after(0), [3])
  assert.equal(history.firstSeq, 3)
})

test('asking from before what is held returns what is held', () => {
  assert.deepEqual(filled(10, 3).after(0), [1, 2, 3])
  assert.deepEqual(filled(10, 0).after(0), [])
})

test('after the last seq, or beyond it, returns nothing', () => {
  assert.deepEqual(filled(3, 3).after(3), [])
  assert.deepEqual(filled(3, 3).after(50), [])
})

test('firstSeq is the oldest held seq, and lastSeq + 1 when nothing is held', () => {
  assert.equal(filled(5, 0).firstSeq, 1)
  assert.equal(filled(5, 0).lastSeq, 0)
  assert.equal(filled(5, 3).firstSeq, 1)
  assert.equal(filled(5, 5).firstSeq, 1)
  assert.equal(filled(5, 6).firstSeq, 2)
  assert.equal(filled(50, 100).firstSeq, 51)
  assert.equal(filled(50, 100).lastSeq, 100)
})

test('a ring may start at any seq, as a node joining a stream late does', () => {
  const history = new History<string>(3)
  history.push(500, 'e500')
  assert.equal(history.firstSeq, 500)
  history.push(501, 'e501')
  assert.deepEqual(history.after(499), ['e500', 'e501'])
  assert.deepEqual(history.after(100), ['e500', 'e501'])
})

test('a seq that skips ahead starts the ring afresh, so no gap is ever held', () => {
  const history = filled(5, 4)
  history.push(9, 9)
  assert.equal(history.size, 1)
  assert.equal(history.firstSeq, 9)
  assert.deepEqual(history.after(0), [9])
  history.push(10, 10)
  assert.deepEqual(history.after(8), [9, 10])
})
