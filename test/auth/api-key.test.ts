import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connect, request, startServer } from '../helpers.js'
import { upgradeAnswer, upgradeStatus } from '../support/upgrade.js'

const KEY = 'k3y-that-must-never-be-logged'

test('without a key, protected routes answer 401 problem details with UNAUTHORIZED', async (t) => {
  const { url } = await startServer(t, { apiKey: KEY })
  for (const [method, path] of [['GET', '/topics'], ['POST', '/topics'], ['GET', '/stats'], ['DELETE', '/topics/x'], ['GET', '/nope']]) {
    const res = await request(url, method as string, path as string)
    assert.equal(res.status, 401, `${method} ${path}`)
    assert.equal(res.headers.get('content-type'), 'application/problem+json')
    assert.equal((res.body as { code: string }).code, 'UNAUTHORIZED')
  }
})

test('a wrong key is refused like a missing one', async (t) => {
  const { url } = await startServer(t, { apiKey: KEY })
  assert.equal((await request(url, 'GET', '/topics', undefined, { 'X-API-Key': KEY + 'x' })).status, 401)
  assert.equal((await request(url, 'GET', '/topics', undefined, { Authorization: 'Bearer nope' })).status, 401)
})

test('the key is accepted as X-API-Key and as a bearer token', async (t) => {
  const { url } = await startServer(t, { apiKey: KEY })
  assert.equal((await request(url, 'GET', '/topics', undefined, { 'X-API-Key': KEY })).status, 200)
  assert.equal((await request(url, 'GET', '/stats', undefined, { Authorization: `Bearer ${KEY}` })).status, 200)
  assert.equal((await request(url, 'POST', '/topics', { name: 'a' }, { Authorization: `bearer ${KEY}` })).status, 201)
})

test('?api_key is not accepted on REST routes', async (t) => {
  const { url } = await startServer(t, { apiKey: KEY })
  assert.equal((await request(url, 'GET', `/topics?api_key=${KEY}`)).status, 401)
})

test('/health stays public when a key is set, with or without a trailing slash', async (t) => {
  const { url } = await startServer(t, { apiKey: KEY })
  assert.equal((await request(url, 'GET', '/health')).status, 200)
  assert.equal((await request(url, 'GET', '/health/')).status, 200)
})

test('a WebSocket upgrade without a valid key is refused with HTTP 401 before any WebSocket opens', async (t) => {
  const server = await startServer(t, { apiKey: KEY })
  assert.deepEqual(await upgradeAnswer(server.wsUrl), { status: 401, challenge: 'Bearer', code: 'UNAUTHORIZED' })
  assert.equal(await upgradeStatus(server.wsUrl, { 'X-API-Key': 'wrong' }), 401)
  assert.equal(await upgradeStatus(`${server.wsUrl}?api_key=wrong`), 401)
  const health = (await request(server.url, 'GET', '/health')).body as { connections: number }
  assert.equal(health.connections, 0)
})

test('a WebSocket upgrade is accepted with the key as header, bearer token or ?api_key', async (t) => {
  const server = await startServer(t, { apiKey: KEY })
  assert.equal(await upgradeStatus(server.wsUrl, { 'X-API-Key': KEY }), 101)
  assert.equal(await upgradeStatus(server.wsUrl, { Authorization: `Bearer ${KEY}` }), 101)
  const client = await connect(t, `${server.wsUrl}?api_key=${encodeURIComponent(KEY)}`)
  client.send({ type: 'ping', request_id: 'p' })
  assert.equal((await client.next()).type, 'pong')
})

test('the key never reaches a log line', async (t) => {
  const server = await startServer(t, { apiKey: KEY, logLevel: 'debug' })
  await request(server.url, 'GET', '/topics', undefined, { 'X-API-Key': KEY })
  await request(server.url, 'GET', '/topics', undefined, { 'X-API-Key': 'wrong' })
  await upgradeStatus(`${server.wsUrl}?api_key=${KEY}`)
  await server.close()
  assert.ok(server.logs.length > 0)
  for (const line of server.logs) assert.ok(!line.includes(KEY), `a log line holds the key: ${line}`)
})
