import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openFileLimit } from '../src/connection-cap.js'

test('the soft open-file limit is read from the process limits table', () => {
  const limits = [
    'Limit                     Soft Limit           Hard Limit           Units',
    'Max processes             63704                63704                processes',
    'Max open files            20000                1048576              files',
  ].join('\n')
  assert.equal(openFileLimit(limits), 20_000)
})

test('no limits table means no cap', () => {
  assert.equal(openFileLimit('Max processes 10 10 processes'), undefined)
})
