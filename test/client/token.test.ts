import assert from 'node:assert/strict'
import { test } from 'node:test'
import { expiryOf, refreshDelay } from '../../src/client/token.js'

const jwt = (claims: object): string =>
  [{ alg: 'HS256' }, claims].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.') + '.signature'

test('the exp claim of a JWT is read in milliseconds; anything unreadable has none', () => {
  assert.equal(expiryOf(jwt({ sub: 'ü-user', exp: 1_800_000_000 })), 1_800_000_000_000)
  for (const token of ['opaque-api-token', 'a.b.c', jwt({ sub: 'x' }), jwt({ exp: '1800000000' }), 'x.' + Buffer.from('null').toString('base64url') + '.y']) {
    assert.equal(expiryOf(token), undefined, token)
  }
})

test('a refresh is due once 80 % of the remaining life is gone, never in the past, never past a timer\'s range', () => {
  assert.equal(refreshDelay(10_000, 0), 8_000)
  assert.equal(refreshDelay(0, 5_000), 0)
  assert.equal(refreshDelay(1e15, 0), 2 ** 31 - 1)
})
