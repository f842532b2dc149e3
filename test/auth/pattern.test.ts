import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compilePattern, matchesPattern, type Pattern } from '../../src/auth/pattern.js'

function compiled(source: string): Pattern {
  const pattern = compilePattern(source)
  assert.ok(typeof pattern !== 'string', `"${source}" should compile, got: ${String(pattern)}`)
  return pattern
}

const matches = (source: string, topic: string, subject?: string): boolean => matchesPattern(compiled(source), topic, subject)

test('orders.* matches one more token and nothing else', () => {
  assert.equal(matches('orders.*', 'orders.eu'), true)
  for (const topic of ['orders', 'orders.eu.x', 'orders.', 'ordersX', 'orders-eu', 'ordersX.eu', 'xorders.eu', 'orders..eu']) {
    assert.equal(matches('orders.*', topic), false, topic)
  }
})

test('orders.> matches one or more tokens after orders, never orders itself', () => {
  assert.equal(matches('orders.>', 'orders.eu'), true)
  assert.equal(matches('orders.>', 'orders.eu.x.y'), true)
  for (const topic of ['orders', 'orders.', 'ordersX.eu', 'orders-eu', 'orders.eu.']) {
    assert.equal(matches('orders.>', topic), false, topic)
  }
})

test('a literal pattern matches exactly its name; a wildcard in the middle stands for one token', () => {
  assert.equal(matches('alerts', 'alerts'), true)
  assert.equal(matches('alerts', 'alerts.x'), false)
  assert.equal(matches('alerts', 'alert'), false)
  assert.equal(matches('a.*.c', 'a.b.c'), true)
  assert.equal(matches('a.*.c', 'a.b.b.c'), false)
  assert.equal(matches('*', 'anything'), true)
  assert.equal(matches('*', 'any.thing'), false)
  assert.equal(matches('>', 'any.thing'), true)
})

test('{sub} stands for the subject as one whole token', () => {
  assert.equal(matches('users.{sub}', 'users.alice', 'alice'), true)
  assert.equal(matches('users.{sub}.>', 'users.alice.inbox', 'alice'), true)
  assert.equal(matches('users.{sub}', 'users.bob', 'alice'), false)
  assert.equal(matches('users.{sub}', 'users.alice', undefined), false)
})

test('a subject holding a dot, * or > (or nothing) matches nothing', () => {
  for (const subject of ['a.b', '*', '>', 'a*', 'a>', '', 'alice.>']) {
    for (const topic of ['users.a.b', 'users.*', 'users.>', 'users.a*', 'users.a', 'users.alice', 'users.alice.x', 'users.']) {
      assert.equal(matches('users.{sub}', topic, subject), false, `sub ${subject}, topic ${topic}`)
      assert.equal(matches('users.{sub}.>', topic, subject), false, `sub ${subject}, topic ${topic} (tail)`)
    }
  }
})

test('invalid patterns are refused with the reason', () => {
  const invalid: [string, RegExp][] = [
    ['', /empty/],
    ['orders.', /empty token/],
    ['.orders', /empty token/],
    ['orders..eu', /empty token/],
    ['orders.>.eu', /'>' before its last token/],
    ['ord*', /token 'ord\*'/],
    ['orders.eu>', /token 'eu>'/],
    ['users.{sub}x', /token '\{sub\}x'/],
    ['users.{user}', /token '\{user\}'/],
    ['a b', /token 'a b'/],
    ['(.*)', /token '\('/],
  ]
  for (const [source, reason] of invalid) {
    const result = compilePattern(source)
    assert.equal(typeof result, 'string', `"${source}" should be refused`)
    assert.match(result as string, reason, source)
  }
})
