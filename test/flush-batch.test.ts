import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FlushBatch, type Flushable } from '../src/ws/flush-batch.js'
import { within } from './helpers.js'

/** A stand-in connection that counts its flushes. */
function counter(): Flushable & { flushes: number } {
  return { flushes: 0, flush() { this.flushes++ } }
}

/** Resolves at the event loop's next check phase, after every setImmediate queued before it. */
const laterThisTurn = (): Promise<void> => within(new Promise<void>((resolve) => setImmediate(resolve)), 'the check phase')

test('the batch holds writes until the turn ends and flushes each target in that same turn', async () => {
  const batch = new FlushBatch()
  const a = counter()
  const b = counter()
  batch.add(a)
  batch.add(b)
  assert.equal(a.flushes + b.flushes, 0, 'nothing is flushed while the turn is still writing')
  // A timer-based flush would only run in the next turn, after this check.
  await laterThisTurn()
  assert.deepEqual([a.flushes, b.flushes], [1, 1])
})

test('a target written in a later turn is flushed in that turn too', async () => {
  const batch = new FlushBatch()
  const target = counter()
  for (let turn = 1; turn <= 3; turn++) {
    batch.add(target)
    await laterThisTurn()
    assert.equal(target.flushes, turn, `flushed in turn ${turn}`)
  }
})
