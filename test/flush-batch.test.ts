import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CorkBatch, type Corked } from '../src/ws/cork-batch.js'
import { within } from './helpers.js'

/** A stand-in socket that counts its uncorks. */
function counter(): Corked & { uncorks: number } {
  return { uncorks: 0, uncork() { this.uncorks++ } }
}

/** Resolves at the event loop's next check phase, after every setImmediate queued before it. */
const laterThisTurn = (): Promise<void> => within(new Promise<void>((resolve) => setImmediate(resolve)), 'the check phase')

test('the batch holds writes until the turn ends and uncorks each target in that same turn', async () => {
  const batch = new CorkBatch()
  const a = counter()
  const b = counter()
  batch.add(a)
  batch.add(b)
  assert.equal(a.uncorks + b.uncorks, 0, 'nothing is flushed while the turn is still writing')
  // A timer-based flush would only run in the next turn, after this check.
  await laterThisTurn()
  assert.deepEqual([a.uncorks, b.uncorks], [1, 1])
})

test('a target written in a later turn is flushed in that turn too', async () => {
  const batch = new CorkBatch()
  const target = counter()
  for (let turn = 1; turn <= 3; turn++) {
    batch.add(target)
    await laterThisTurn()
    assert.equal(target.uncorks, turn, `flushed in turn ${turn}`)
  }
})
