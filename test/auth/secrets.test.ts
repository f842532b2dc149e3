import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { connect, request, startServer, within } from '../helpers.js'
import { authFixture, base64url, hsToken, HS_SECRET, KEYS, nowSec, sha256Hex } from '../support/auth-fixture.js'
import { upgradeStatus } from '../support/upgrade.js'

test('at LOG_LEVEL=debug no key, token, hash or secret reaches a log line, /stats or /metrics; /metrics counts refusals by reason', async (t) => {
  const fixture = await authFixture(t, 1)
  const server = await startServer(t, { authFile: fixture.path, env: fixture.env, apiKey: 'the-v1-api-key', logLevel: 'debug' })
  const admin = { 'X-API-Key': KEYS.admin }
  assert.equal((await request(server.url, 'POST', '/topics', { name: 'orders.eu' }, admin)).status, 201)
  const token = await hsToken({ exp: nowSec() + 1, pubsub: { subscribe: ['orders.*'] } })
  const expired = await hsToken({ exp: nowSec() - 3600 })
  // Every path: accepted and refused, REST and upgrade, header, query and subprotocol, forbidden, refresh, expiry.
  await request(server.url, 'GET', '/topics/orders.eu/messages', undefined, { Authorization: `Bearer ${token}` })
  await request(server.url, 'GET', '/topics', undefined, { 'X-API-Key': KEYS.orders })
  await request(server.url, 'GET', '/topics', undefined, { Authorization: `Bearer ${expired}` })
  await request(server.url, 'GET', '/topics', undefined, { 'X-API-Key': `${KEYS.admin}x` })
  await request(server.url, 'GET', '/topics')
  await upgradeStatus(`${server.wsUrl}?api_key=${KEYS.metrics}`)
  await upgradeStatus(`${server.wsUrl}?access_token=${expired}`)
  await upgradeStatus(server.wsUrl, {}, ['pubsub.v1', `pubsub.auth.${base64url(`${KEYS.orders}x`)}`])
  const client = await connect(t, server.wsUrl, { headers: { 'X-API-Key': KEYS.orders } })
  client.send({ type: 'subscribe', topic: 'billing' })
  await client.next()
  const expiring = await connect(t, server.wsUrl, { headers: { Authorization: `Bearer ${token}` } })
  expiring.send({ type: 'refresh', token: await hsToken({ exp: nowSec() + 1, pubsub: { subscribe: [] } }) })
  await within(expiring.closed, 'the token connection to expire', 10_000)
  const v1 = new WebSocket(`${server.wsUrl}?api_key=the-v1-api-key`)
  await within(new Promise((resolve) => v1.once('open', resolve)), 'the API_KEY upgrade')
  v1.terminate()

  const stats = (await request(server.url, 'GET', '/stats', undefined, admin)).text
  const metrics = (await request(server.url, 'GET', '/metrics', undefined, { Authorization: `Bearer ${KEYS.metrics}` })).text
  const secrets = [...Object.values(KEYS), 'the-v1-api-key', HS_SECRET, token, expired]
  const forms = secrets.flatMap((secret) => [secret, sha256Hex(secret), base64url(secret), secret.split('.').at(-1) ?? secret])
  for (const [where, text] of [['logs', server.logs.join('\n')], ['/stats', stats], ['/metrics', metrics]] as const) {
    for (const form of forms) assert.ok(!text.includes(form), `${where} holds a secret starting ${form.slice(0, 6)}`)
  }
  const counted = (reason: string): number => Number(new RegExp(`^pubsub_auth_refusals_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(metrics)?.[1])
  assert.equal(counted('missing_credential'), 1)
  assert.equal(counted('invalid_credential'), 2)
  assert.equal(counted('token_expired'), 3)
  assert.equal(counted('forbidden'), 3)
})
