import assert from 'node:assert/strict'
import { test } from 'node:test'
import { History } from '../src/broker/history.js'

const filled = (capacity: number, count: number): History<number> => {
  const history = new History<number>(capacity)
  for (let i = 1; i <= count; i++) history.push(i)
  return history
}

test('last(n) returns the newest items oldest first', () => {
  assert.deepEqual(filled(5, 4).last(2), [3, 4])
  assert.deepEqual(filled(5, 4).last(4), [1, 2, 3, 4])
})

test('the ring keeps only the newest items once it wraps around', () => {
  const history = filled(3, 7)
  assert.equal(history.size, 3)
  assert.deepEqual(history.last(3), [5, 6, 7])
  assert.deepEqual(history.last(1), [7])
})

test('wrap-around stays in order across many laps', () => {
  const history = filled(4, 1_003)
  assert.deepEqual(history.last(4), [1_000, 1_001, 1_002, 1_003])
})

test('capacity 0 keeps nothing', () => {
  const history = filled(0, 10)
  assert.equal(history.size, 0)
  assert.deepEqual(history.last(5), [])
})

test('capacity 1 keeps only the latest item', () => {
  const history = filled(1, 3)
  assert.equal(history.size, 1)
  assert.deepEqual(history.last(10), [3])
})

test('asking for more than is held returns what is held', () => {
  assert.deepEqual(filled(10, 3).last(50), [1, 2, 3])
  assert.deepEqual(filled(10, 0).last(50), [])
})

test('last(0) returns nothing', () => {
  assert.deepEqual(filled(3, 3).last(0), [])
})
