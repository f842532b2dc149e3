import assert from 'node:assert/strict'
import { test } from 'node:test'
import { backoffDelay } from '../../src/client/backoff.js'

const DEFAULT = { minDelayMs: 500, maxDelayMs: 20_000 }

test('the delay ceiling doubles with each attempt from minDelayMs and stops at maxDelayMs', () => {
  const ceilings = [0, 1, 2, 3, 5, 6, 10, 100, 5_000].map((attempt) => backoffDelay(attempt, DEFAULT, () => 0.999_999_9))
  assert.deepEqual(ceilings, [499, 999, 1_999, 3_999, 15_999, 19_999, 19_999, 19_999, 19_999])
})

test('full jitter: the delay is drawn from zero up to the ceiling', () => {
  assert.equal(backoffDelay(4, DEFAULT, () => 0), 0)
  assert.equal(backoffDelay(4, DEFAULT, () => 0.5), 4_000)
  const delays = Array.from({ length: 2_000 }, () => backoffDelay(0, DEFAULT))
  assert.ok(delays.every((d) => Number.isInteger(d) && d >= 0 && d < 500))
  // Uniform over [0, 500): each fifth of the range gets about a fifth of the draws.
  const fifths = [0, 0, 0, 0, 0]
  for (const d of delays) fifths[Math.floor(d / 100)]! += 1
  for (const count of fifths) assert.ok(count > 300 && count < 500, `fifths ${fifths.join(', ')}`)
})
