import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { Authenticator, newRefusalCounts } from '../../src/auth/authenticator.js'
import { connect, request, startServer, within, type Client, type TestServer } from '../helpers.js'
import { authFixture, hsToken, KEYS, nowSec } from '../support/auth-fixture.js'
import { connectionFor, fakeClient } from '../support/fake-connection.js'
import { upgradeAnswer } from '../support/upgrade.js'

/** Seconds of leeway the servers here give: small, so an expiry comes within a few seconds. */
const TOLERANCE_SEC = 1
/** An expiry is at most this far away in these tests: exp is whole seconds, plus the tolerance, on a busy machine. */
const EXPIRY_WAIT_MS = 10_000
const GRANTS = { subscribe: ['orders.*', 'alerts'], publish: ['orders.*'] }
const admin = { 'X-API-Key': KEYS.admin }

async function tokenServer(t: TestContext): Promise<TestServer> {
  const fixture = await authFixture(t, TOLERANCE_SEC)
  const server = await startServer(t, { authFile: fixture.path, env: fixture.env })
  for (const name of ['orders.eu', 'alerts']) assert.equal((await request(server.url, 'POST', '/topics', { name }, admin)).status, 201)
  return server
}

const withToken = (t: TestContext, server: TestServer, token: string): Promise<Client> =>
  connect(t, server.wsUrl, { headers: { Authorization: `Bearer ${token}` } })

test('a connection opened with a token closes at exp plus the tolerance, with TOKEN_EXPIRED and 4401', async (t) => {
  const server = await tokenServer(t)
  const exp = nowSec() + 1
  const client = await withToken(t, server, await hsToken({ exp, pubsub: GRANTS }))
  client.send({ type: 'subscribe', topic: 'orders.eu', request_id: 's' })
  assert.equal((await client.next()).type, 'ack')
  const closed = await within(client.closed, 'the expired connection to close', EXPIRY_WAIT_MS)
  assert.ok(Date.now() >= (exp + TOLERANCE_SEC) * 1000, 'closed before exp + tolerance')
  assert.deepEqual(closed, { code: 4401, reason: 'TOKEN_EXPIRED' })
  const last = await client.next()
  assert.equal(last.type, 'error')
  assert.equal(last.error?.code, 'TOKEN_EXPIRED')
  const health = (await request(server.url, 'GET', '/health')).body as { subscribers: number }
  assert.equal(health.subscribers, 0, 'the expired connection let go of its subscription')
})

test('a refresh before expiry keeps the connection open past the old token', async (t) => {
  const server = await tokenServer(t)
  const exp = nowSec() + 1
  const old = await hsToken({ exp, pubsub: GRANTS })
  const refreshed = await withToken(t, server, old)
  const bystander = await withToken(t, server, old)
  refreshed.send({ type: 'refresh', token: await hsToken({ exp: nowSec() + 60, pubsub: GRANTS }), request_id: 'r1' })
  const ack = await refreshed.next()
  assert.deepEqual([ack.type, ack.request_id, ack.status], ['ack', 'r1', 'ok'])
  // The bystander, with the same old token, shows the old expiry has passed.
  assert.equal((await within(bystander.closed, 'the bystander to expire', EXPIRY_WAIT_MS)).code, 4401)
  refreshed.send({ type: 'subscribe', topic: 'orders.eu', request_id: 's' })
  assert.equal((await refreshed.next()).type, 'ack')
  assert.deepEqual(await refreshed.drain(), [])
})

test('a refresh with another sub is refused with UNAUTHORIZED and closes 4401', async (t) => {
  const server = await tokenServer(t)
  const client = await withToken(t, server, await hsToken({ sub: 'alice', pubsub: GRANTS }))
  client.send({ type: 'refresh', token: await hsToken({ sub: 'mallory', exp: nowSec() + 3600, pubsub: GRANTS }), request_id: 'r' })
  const error = await client.next()
  assert.equal(error.error?.code, 'UNAUTHORIZED')
  assert.match(error.error?.message ?? '', /another subject/)
  assert.deepEqual(await within(client.closed, 'the close'), { code: 4401, reason: 'UNAUTHORIZED' })
})

test('a refresh with an expired or invalid token closes 4401 and never extends access', async (t) => {
  const server = await tokenServer(t)
  for (const token of [await hsToken({ exp: nowSec() - 3600, pubsub: GRANTS }), 'not.a.token']) {
    const client = await withToken(t, server, await hsToken({ pubsub: GRANTS }))
    client.send({ type: 'refresh', token })
    assert.equal((await client.next()).error?.code, 'UNAUTHORIZED')
    assert.equal((await within(client.closed, 'the close')).code, 4401)
  }
})

test('a refresh with fewer permissions ends the lost subscriptions with info unsubscribed FORBIDDEN', async (t) => {
  const server = await tokenServer(t)
  const client = await withToken(t, server, await hsToken({ pubsub: GRANTS }))
  for (const topic of ['orders.eu', 'alerts']) {
    client.send({ type: 'subscribe', topic })
    assert.equal((await client.next()).type, 'ack')
  }
  client.send({ type: 'refresh', token: await hsToken({ pubsub: { subscribe: ['orders.*'] } }), request_id: 'r' })
  const info = await client.next()
  assert.deepEqual([info.type, info.topic, info.msg, (info as { reason?: string }).reason], ['info', 'alerts', 'unsubscribed', 'FORBIDDEN'])
  assert.equal((await client.next()).type, 'ack')
  for (const topic of ['alerts', 'orders.eu']) {
    assert.equal((await request(server.url, 'POST', `/topics/${topic}/messages`, { payload: topic }, admin)).status, 200)
  }
  // Awaited, not drained: in cluster mode the publishes may go through another node than this connection's.
  const event = await client.next()
  assert.deepEqual([event.type, event.topic], ['event', 'orders.eu'], 'the lost topic\'s event, published first, never came')
  assert.deepEqual(await client.drain(), [])
  // The new token grants no publish.
  client.send({ type: 'publish', topic: 'orders.eu', message: { payload: 1 }, request_id: 'p' })
  assert.equal((await client.next()).error?.code, 'FORBIDDEN')
})

test('a refresh on a connection opened with an API key is a BAD_REQUEST', async (t) => {
  const server = await tokenServer(t)
  const client = await connect(t, server.wsUrl, { headers: { 'X-API-Key': KEYS.orders } })
  client.send({ type: 'refresh', token: await hsToken({ pubsub: GRANTS }), request_id: 'r' })
  const error = await client.next()
  assert.equal(error.error?.code, 'BAD_REQUEST')
  client.send({ type: 'ping', request_id: 'p' })
  assert.equal((await client.next()).type, 'pong')
})

test('an expired token is refused at the upgrade with HTTP 401', async (t) => {
  const server = await tokenServer(t)
  const token = await hsToken({ exp: nowSec() - 3600, pubsub: GRANTS })
  assert.deepEqual(await upgradeAnswer(server.wsUrl, { Authorization: `Bearer ${token}` }), { status: 401, challenge: 'Bearer', code: 'UNAUTHORIZED' })
})

test('each message checks expiry itself: once the time has passed, a late timer lets nothing through', () => {
  let now = 1_000_000
  const access = { authenticator: new Authenticator(undefined, undefined), refusals: newRefusalCounts(), now: () => now }
  const principal = { role: 'client' as const, id: 'jwt:k', subject: 'alice', grants: { publish: [], subscribe: [] }, expiresAt: now + 60_000 }
  const client = fakeClient()
  connectionFor(client, { principal, credential: { value: 'token', carrier: 'bearer' } }, access)
  now += 60_000
  client.ws.emit('message', Buffer.from('{"type":"ping","request_id":"p"}'), false)
  const closes = client.wire.filter((event) => 'close' in event)
  const written = client.wire.filter((event) => 'write' in event).map((event) => event.write).join('')
  assert.deepEqual(closes, [{ close: 4401 }])
  assert.match(written, /"code":"TOKEN_EXPIRED"/)
  assert.doesNotMatch(written, /pong/)
  assert.equal(access.refusals.token_expired, 1)
  client.ws.emit('close', 4401)
})
