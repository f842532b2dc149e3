import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Router } from '../src/http/router.js'

const router = new Router<string>()
  .add('GET', '/topics', 'list')
  .add('POST', '/topics', 'create')
  .add('DELETE', '/topics/:name', 'delete')
  .add('POST', '/topics/:name/messages', 'publish')
  .add('GET', '/topics/:name/messages', 'history')

test('a static path matches its handler with no params', () => {
  assert.deepEqual(router.match('GET', '/topics'), { handler: 'list', params: {} })
})

test('a :name segment is captured and percent-decoded', () => {
  assert.deepEqual(router.match('POST', '/topics/orders/messages'), { handler: 'publish', params: { name: 'orders' } })
  assert.deepEqual(router.match('DELETE', '/topics/a%3Ab'), { handler: 'delete', params: { name: 'a:b' } })
})

test('a trailing slash matches the same route', () => {
  assert.deepEqual(router.match('GET', '/topics/'), { handler: 'list', params: {} })
})

test('a known path with another method lists the allowed methods', () => {
  assert.deepEqual(router.match('PUT', '/topics'), { allow: ['GET', 'POST', 'HEAD'] })
  assert.deepEqual(router.match('GET', '/topics/orders'), { allow: ['DELETE'] })
})

test('HEAD is served by the GET handler', () => {
  assert.deepEqual(router.match('HEAD', '/topics'), { handler: 'list', params: {} })
})

test('an unknown path matches nothing', () => {
  assert.equal(router.match('GET', '/nope'), undefined)
  assert.equal(router.match('GET', '/topics/a/b/c'), undefined)
  assert.equal(router.match('GET', '/'), undefined)
})

test('a malformed percent-encoding is captured as sent instead of throwing', () => {
  assert.deepEqual(router.match('DELETE', '/topics/%E0%A4%A'), { handler: 'delete', params: { name: '%E0%A4%A' } })
})
