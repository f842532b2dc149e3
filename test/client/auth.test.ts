import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient, type ClientState } from '../../src/client/index.js'
import { request, startServer } from '../helpers.js'
import { authFixture, hsToken, KEYS, nowSec } from '../support/auth-fixture.js'
import { entered, Recorder } from './watch.js'

const KEY = 'client-subprotocol-key'

test('by default an API key rides in the subprotocol, and the server lets it in', async (t) => {
  const server = await startServer(t, { apiKey: KEY })
  assert.equal((await request(server.url, 'POST', '/topics', { name: 'orders' }, { 'X-API-Key': KEY })).status, 201)
  const client = createClient(server.wsUrl, { apiKey: KEY })
  t.after(() => client.close())
  const seen = new Recorder()
  client.subscribe('orders', seen.callback)
  const published = await client.publish('orders', 'hello')
  await seen.reached(1)
  assert.deepEqual(seen.payloads, ['hello'])
  assert.equal(published.seq, 1)
  assert.ok(server.logs.every((line) => !line.includes(KEY)), 'the key was logged')
})

test('a token from a function is refreshed before it expires, so the connection outlives it', async (t) => {
  const fixture = await authFixture(t, 1)
  const server = await startServer(t, { authFile: fixture.path, env: fixture.env })
  assert.equal((await request(server.url, 'POST', '/topics', { name: 'orders.eu' }, { 'X-API-Key': KEYS.admin })).status, 201)
  const grants = { subscribe: ['orders.*'], publish: ['orders.*'] }
  let issued = 0
  const firstExp = nowSec() + 3
  // The first token lasts 3 s; every later one a minute.
  const token = (): Promise<string> => hsToken({ exp: ++issued === 1 ? firstExp : nowSec() + 60, pubsub: grants })
  const client = createClient(server.wsUrl, { token })
  t.after(() => client.close())
  const states: ClientState[] = []
  client.on('state', (state) => states.push(state))
  const seen = new Recorder()
  client.subscribe('orders.eu', seen.callback)
  await entered(client, 'connected')
  assert.equal((await client.publish('orders.eu', 1)).seq, 1)
  await seen.reached(1)
  // Without the refresh the server would have closed the connection (4401) by then: exp plus its 1 s tolerance.
  await new Promise((resolve) => setTimeout(resolve, (firstExp + 2) * 1000 - Date.now()))
  assert.equal((await client.publish('orders.eu', 2)).seq, 2)
  await seen.reached(2)
  assert.equal(issued, 2, 'one token to connect, one refresh')
  assert.deepEqual(states, ['connected'])
})
