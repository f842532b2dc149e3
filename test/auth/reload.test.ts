import assert from 'node:assert/strict'
import { test } from 'node:test'
import { spawnServer } from '../child.js'
import { connect, request, within } from '../helpers.js'
import { authFixture, keyEntries, KEYS, sha256Hex, HS_SECRET } from '../support/auth-fixture.js'

test('SIGHUP re-reads AUTH_FILE: a broken file keeps the old one, lost grants end subscriptions, a removed key closes 4401', async (t) => {
  const fixture = await authFixture(t)
  const server = await spawnServer(t, { env: { AUTH_FILE: fixture.path, LOG_LEVEL: 'debug', ...fixture.env } })
  const admin = { 'X-API-Key': KEYS.admin }
  const orders = { 'X-API-Key': KEYS.orders }
  for (const name of ['orders.eu', 'alerts']) assert.equal((await request(server.url, 'POST', '/topics', { name }, admin)).status, 201)
  const client = await connect(t, server.wsUrl, { headers: orders })
  for (const topic of ['orders.eu', 'alerts']) {
    client.send({ type: 'subscribe', topic })
    assert.equal((await client.next()).type, 'ack')
  }
  const [ops, prometheus, ordersSvc] = keyEntries() as Record<string, unknown>[]

  await fixture.write({ ...fixture.file, keys: [ops, { ...prometheus, role: 'owner' }, ordersSvc] })
  server.child.kill('SIGHUP')
  const kept = await server.waitForLog('AUTH_FILE not reloaded: the credentials in force stay')
  assert.equal(kept.level, 'warn')
  assert.match(String(kept.problem), /keys\[1\] \(id "prometheus"\): unknown role "owner"/)
  assert.deepEqual(await client.drain(), [], 'a broken file changes nothing for open connections')
  assert.equal((await request(server.url, 'GET', '/topics/orders.eu/messages', undefined, orders)).status, 200)

  await fixture.write({ ...fixture.file, keys: [ops, prometheus, { ...ordersSvc, subscribe: ['alerts'] }] })
  server.child.kill('SIGHUP')
  const info = await client.next()
  assert.deepEqual([info.type, info.topic, info.msg, (info as { reason?: string }).reason], ['info', 'orders.eu', 'unsubscribed', 'FORBIDDEN'])
  assert.equal((await request(server.url, 'GET', '/topics/orders.eu/messages', undefined, orders)).status, 403)
  assert.deepEqual(await client.drain(), [])

  await fixture.write({ ...fixture.file, keys: [ops, prometheus] })
  server.child.kill('SIGHUP')
  const error = await client.next()
  assert.equal(error.error?.code, 'UNAUTHORIZED')
  assert.deepEqual(await within(client.closed, 'the removed key\'s connection to close'), { code: 4401, reason: 'UNAUTHORIZED' })
  assert.equal((await request(server.url, 'GET', '/topics/orders.eu/messages', undefined, orders)).status, 401)
  assert.equal((await request(server.url, 'GET', '/topics', undefined, admin)).status, 200)

  server.child.kill('SIGTERM')
  assert.equal((await within(server.exited, 'the server to exit', 15_000)).code, 0)
  const output = [...server.stdout, ...server.stderr].join('\n')
  for (const secret of [...Object.values(KEYS), ...Object.values(KEYS).map(sha256Hex), HS_SECRET]) {
    assert.ok(!output.includes(secret), `the output holds a secret starting ${secret.slice(0, 6)}`)
  }
})
