import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { test, type TestContext } from 'node:test'
import { WebSocket } from 'ws'
import { request, startServer, within, type TestServer } from '../helpers.js'
import { authFixture, base64url, hsToken, KEYS } from '../support/auth-fixture.js'
import { upgradeStatus } from '../support/upgrade.js'

const GRANTS = { pubsub: { subscribe: ['orders.*'] } }

async function securedServer(t: TestContext): Promise<TestServer> {
  const fixture = await authFixture(t)
  const server = await startServer(t, { authFile: fixture.path, env: fixture.env })
  assert.equal((await request(server.url, 'POST', '/topics', { name: 'orders.eu' }, { 'X-API-Key': KEYS.admin })).status, 201)
  return server
}

/** Opens with the given subprotocols; resolves with the selected one and the raw 101 response's headers. */
function openWithProtocols(t: TestContext, url: string, protocols: string[]): Promise<{ ws: WebSocket; protocol: string; rawHeaders: string[] }> {
  const ws = new WebSocket(url, protocols)
  t.after(() => ws.terminate())
  let rawHeaders: string[] = []
  ws.on('upgrade', (res: IncomingMessage) => { rawHeaders = res.rawHeaders })
  return within(new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, protocol: ws.protocol, rawHeaders }))
    ws.once('error', reject)
  }), 'the upgrade with subprotocols')
}

test('the upgrade takes a key or a token in a header', async (t) => {
  const server = await securedServer(t)
  const token = await hsToken(GRANTS)
  assert.equal(await upgradeStatus(server.wsUrl, { 'X-API-Key': KEYS.orders }), 101)
  assert.equal(await upgradeStatus(server.wsUrl, { Authorization: `Bearer ${KEYS.orders}` }), 101)
  assert.equal(await upgradeStatus(server.wsUrl, { Authorization: `Bearer ${token}` }), 101)
})

test('the upgrade takes ?access_token= (key or token) and ?api_key= (key only)', async (t) => {
  const server = await securedServer(t)
  const token = await hsToken(GRANTS)
  assert.equal(await upgradeStatus(`${server.wsUrl}?access_token=${token}`), 101)
  assert.equal(await upgradeStatus(`${server.wsUrl}?access_token=${encodeURIComponent(KEYS.orders)}`), 101)
  assert.equal(await upgradeStatus(`${server.wsUrl}?api_key=${encodeURIComponent(KEYS.orders)}`), 101)
  assert.equal(await upgradeStatus(`${server.wsUrl}?api_key=${token}`), 401)
  assert.equal(await upgradeStatus(`${server.wsUrl}?access_token=${token}x`), 401)
})

test('a credential in the subprotocol opens the socket; the server selects pubsub.v1 and never echoes the credential', async (t) => {
  const server = await securedServer(t)
  const token = await hsToken(GRANTS)
  for (const credential of [token, KEYS.orders]) {
    const encoded = base64url(credential)
    const { ws, protocol, rawHeaders } = await openWithProtocols(t, server.wsUrl, ['pubsub.v1', `pubsub.auth.${encoded}`])
    assert.equal(protocol, 'pubsub.v1')
    const answer = rawHeaders.join('\n')
    assert.match(answer, /Sec-WebSocket-Protocol\npubsub\.v1/i)
    for (const secret of [credential, encoded, 'pubsub.auth']) assert.ok(!answer.includes(secret), `the 101 echoes ${secret.slice(0, 12)}…`)
    ws.send(JSON.stringify({ type: 'subscribe', topic: 'orders.eu', request_id: 's' }))
    const ack = await within(new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data)))), 'the ack')
    assert.equal((JSON.parse(ack) as { type: string }).type, 'ack')
  }
  // Listed first, the credential is still never the protocol selected.
  const { protocol } = await openWithProtocols(t, server.wsUrl, [`pubsub.auth.${base64url(token)}`, 'pubsub.v1'])
  assert.equal(protocol, 'pubsub.v1')
})

test('a wrong credential in the subprotocol is refused with HTTP 401', async (t) => {
  const server = await securedServer(t)
  assert.equal(await upgradeStatus(server.wsUrl, {}, ['pubsub.v1', `pubsub.auth.${base64url('wrong-key')}`]), 401)
  assert.equal(await upgradeStatus(server.wsUrl, {}, ['pubsub.v1', 'pubsub.auth.']), 401)
})
