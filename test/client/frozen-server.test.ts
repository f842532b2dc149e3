import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient, type ResetReason } from '../../src/client/index.js'
import { spawnServer } from '../child.js'
import { createTopic, request } from '../helpers.js'
import { entered, Recorder } from './watch.js'

const PING_INTERVAL_MS = 1_000
const PING_TIMEOUT_MS = 1_000
/** Timers fire late on a busy machine; the bound itself is interval + timeout after the last frame heard. */
const LATENESS_MS = 500

test('a server stopped with SIGSTOP is noticed within ping interval + timeout, and resumed from after SIGCONT', async (t) => {
  const server = await spawnServer(t)
  await createTopic(server.url, 'orders')
  const client = createClient(server.wsUrl, {
    pingIntervalMs: PING_INTERVAL_MS,
    pingTimeoutMs: PING_TIMEOUT_MS,
    connectTimeoutMs: 1_000,
    backoff: { minDelayMs: 100, maxDelayMs: 1_000 },
  })
  t.after(() => client.close())
  const seen = new Recorder()
  const sub = client.subscribe('orders', seen.callback)
  const reasons: ResetReason[] = []
  sub.on('reset', ({ reason }) => reasons.push(reason))
  await entered(client, 'connected')
  assert.equal((await request(server.url, 'POST', '/topics/orders/messages', { payload: 1 })).status, 200)
  await seen.reached(1)

  const stoppedAt = Date.now()
  server.child.kill('SIGSTOP')
  t.after(() => server.child.kill('SIGCONT'))
  await entered(client, 'disconnected', PING_INTERVAL_MS + PING_TIMEOUT_MS + 5_000)
  const noticedAfter = Date.now() - stoppedAt
  console.log(`frozen server noticed after ${noticedAfter} ms (ping interval ${PING_INTERVAL_MS} + timeout ${PING_TIMEOUT_MS})`)
  assert.ok(noticedAfter <= PING_INTERVAL_MS + PING_TIMEOUT_MS + LATENESS_MS, `noticed after ${noticedAfter} ms`)

  server.child.kill('SIGCONT')
  await entered(client, 'connected', 15_000)
  for (const n of [2, 3]) assert.equal((await request(server.url, 'POST', '/topics/orders/messages', { payload: n })).status, 200)
  await seen.reached(3)
  assert.deepEqual(seen.seqs, [1, 2, 3])
  assert.deepEqual(reasons, [])
})
