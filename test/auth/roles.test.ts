import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { connect, request, startServer, type TestServer } from '../helpers.js'
import { authFixture, KEYS } from '../support/auth-fixture.js'
import { upgradeAnswer, upgradeStatus } from '../support/upgrade.js'

const as = (key: string): Record<string, string> => ({ 'X-API-Key': key })

/** A server with the fixture's AUTH_FILE and the topics orders.eu, orders.us and billing, made by the admin. */
async function securedServer(t: TestContext): Promise<TestServer> {
  const fixture = await authFixture(t)
  const server = await startServer(t, { authFile: fixture.path, env: fixture.env })
  for (const name of ['orders.eu', 'orders.us', 'billing', 'alerts']) {
    assert.equal((await request(server.url, 'POST', '/topics', { name }, as(KEYS.admin))).status, 201)
  }
  return server
}

const codeOf = (body: unknown): string | undefined => (body as { code?: string }).code

test('an admin key may do everything', async (t) => {
  const server = await securedServer(t)
  const admin = as(KEYS.admin)
  assert.equal((await request(server.url, 'GET', '/topics', undefined, admin)).status, 200)
  assert.equal((await request(server.url, 'POST', '/topics/billing/messages', { payload: 1 }, admin)).status, 200)
  assert.equal((await request(server.url, 'GET', '/topics/billing/messages', undefined, admin)).status, 200)
  assert.equal((await request(server.url, 'GET', '/stats', undefined, admin)).status, 200)
  assert.equal((await request(server.url, 'GET', '/metrics', undefined, admin)).status, 200)
  assert.equal((await request(server.url, 'DELETE', '/topics/billing', undefined, admin)).status, 200)
  const client = await connect(t, server.wsUrl, { headers: admin })
  client.send({ type: 'subscribe', topic: 'orders.eu', request_id: 's' })
  assert.equal((await client.next()).type, 'ack')
})

test('a client key cannot create, delete or list topics, nor read /stats or /metrics: 403 FORBIDDEN', async (t) => {
  const server = await securedServer(t)
  const client = as(KEYS.orders)
  for (const [method, path, body] of [
    ['POST', '/topics', { name: 'orders.new' }], ['DELETE', '/topics/orders.eu', undefined], ['GET', '/topics', undefined],
    ['GET', '/stats', undefined], ['GET', '/metrics', undefined],
  ] as const) {
    const res = await request(server.url, method, path, body, client)
    assert.equal(res.status, 403, `${method} ${path}`)
    assert.equal(res.headers.get('content-type'), 'application/problem+json')
    assert.equal(codeOf(res.body), 'FORBIDDEN')
  }
  const topics = (await request(server.url, 'GET', '/topics', undefined, as(KEYS.admin))).body as { topics: { name: string }[] }
  assert.deepEqual(topics.topics.map((topic) => topic.name), ['orders.eu', 'orders.us', 'billing', 'alerts'])
})

test('a client key publishes and reads history only where its patterns allow', async (t) => {
  const server = await securedServer(t)
  const client = as(KEYS.orders)
  assert.equal((await request(server.url, 'POST', '/topics/orders.eu/messages', { payload: 1 }, client)).status, 200)
  assert.equal((await request(server.url, 'GET', '/topics/orders.eu/messages', undefined, client)).status, 200)
  assert.equal((await request(server.url, 'GET', '/topics/alerts/messages', undefined, client)).status, 200)
  // alerts is subscribe-only; billing is neither.
  assert.equal((await request(server.url, 'POST', '/topics/alerts/messages', { payload: 1 }, client)).status, 403)
  assert.equal((await request(server.url, 'POST', '/topics/billing/messages', { payload: 1 }, client)).status, 403)
  assert.equal((await request(server.url, 'GET', '/topics/billing/messages', undefined, client)).status, 403)
})

test('permission is checked before existence: a topic the client may not use is 403 whether or not it exists', async (t) => {
  const server = await securedServer(t)
  const client = as(KEYS.orders)
  for (const topic of ['billing', 'no-such-topic']) {
    const res = await request(server.url, 'POST', `/topics/${topic}/messages`, { payload: 1 }, client)
    assert.equal(res.status, 403, topic)
  }
  // A topic it may use but that does not exist is an honest 404.
  assert.equal((await request(server.url, 'POST', '/topics/orders.missing/messages', { payload: 1 }, client)).status, 404)
  const ws = await connect(t, server.wsUrl, { headers: client })
  ws.send({ type: 'subscribe', topic: 'no-such-topic', request_id: 'a' })
  ws.send({ type: 'subscribe', topic: 'billing', request_id: 'b' })
  ws.send({ type: 'publish', topic: 'billing', message: { payload: 1 }, request_id: 'c' })
  ws.send({ type: 'unsubscribe', topic: 'no-such-topic', request_id: 'd' })
  for (const id of ['a', 'b', 'c', 'd']) {
    const frame = await ws.next()
    assert.equal(frame.type, 'error', id)
    assert.equal(frame.request_id, id)
    assert.equal(frame.error?.code, 'FORBIDDEN', id)
  }
  ws.send({ type: 'subscribe', topic: 'orders.missing', request_id: 'e' })
  assert.equal((await ws.next()).error?.code, 'TOPIC_NOT_FOUND')
})

test('over WebSocket a client key subscribes and publishes where its patterns allow', async (t) => {
  const server = await securedServer(t)
  const ws = await connect(t, server.wsUrl, { headers: as(KEYS.orders) })
  ws.send({ type: 'subscribe', topic: 'orders.eu', request_id: 's1' })
  assert.equal((await ws.next()).type, 'ack')
  ws.send({ type: 'publish', topic: 'orders.eu', message: { payload: 'p' }, request_id: 'p1' })
  assert.equal((await ws.next()).type, 'event')
  assert.equal((await ws.next()).type, 'ack')
  ws.send({ type: 'subscribe', topic: 'alerts', request_id: 's2' })
  assert.equal((await ws.next()).type, 'ack')
  ws.send({ type: 'publish', topic: 'alerts', message: { payload: 'p' }, request_id: 'p2' })
  assert.equal((await ws.next()).error?.code, 'FORBIDDEN')
  ws.send({ type: 'ping', request_id: 'still-open' })
  assert.equal((await ws.next()).type, 'pong')
})

test('a metrics key reads /metrics, /stats and /topics, and nothing else; it cannot open /ws', async (t) => {
  const server = await securedServer(t)
  const metrics = as(KEYS.metrics)
  for (const path of ['/metrics', '/stats', '/topics']) assert.equal((await request(server.url, 'GET', path, undefined, metrics)).status, 200, path)
  assert.equal((await request(server.url, 'POST', '/topics/billing/messages', { payload: 1 }, metrics)).status, 403)
  assert.equal((await request(server.url, 'GET', '/topics/billing/messages', undefined, metrics)).status, 403)
  assert.equal((await request(server.url, 'POST', '/topics', { name: 'x' }, metrics)).status, 403)
  assert.deepEqual(await upgradeAnswer(server.wsUrl, metrics), { status: 403, challenge: undefined, code: 'FORBIDDEN' })
})

test('default deny: with AUTH_FILE set, no credential or an unknown one is 401 everywhere but the public routes', async (t) => {
  const server = await securedServer(t)
  for (const headers of [{}, as('not-a-key'), { Authorization: 'Bearer not-a-key' }]) {
    const res = await request(server.url, 'GET', '/topics/orders.eu/messages', undefined, headers)
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer')
    assert.equal(codeOf(res.body), 'UNAUTHORIZED')
    assert.equal(await upgradeStatus(server.wsUrl, headers), 401)
  }
  // /docs renders a large page on first use: its being public is tested with the docs.
  for (const path of ['/health', '/openapi.json', '/openapi.yaml']) assert.equal((await request(server.url, 'GET', path)).status, 200, path)
})

test('with API_KEY and AUTH_FILE both set, API_KEY is one more admin key', async (t) => {
  const fixture = await authFixture(t)
  const server = await startServer(t, { authFile: fixture.path, env: fixture.env, apiKey: 'the-v1-api-key' })
  assert.equal((await request(server.url, 'POST', '/topics', { name: 'x' }, as('the-v1-api-key'))).status, 201)
  assert.equal((await request(server.url, 'DELETE', '/topics/x', undefined, as(KEYS.admin))).status, 200)
})

test('a server with neither API_KEY nor AUTH_FILE is open, and says so at start-up', async (t) => {
  const server = await startServer(t)
  assert.equal((await request(server.url, 'POST', '/topics', { name: 'x' })).status, 201)
  const warning = await server.waitForLog('access control is off: neither API_KEY nor AUTH_FILE is set, so anyone who reaches the port may do everything')
  assert.equal(warning.level, 'warn')
})
