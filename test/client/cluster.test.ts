import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient, type ResetReason } from '../../src/client/index.js'
import { createTopic } from '../helpers.js'
import { startCluster } from '../support/cluster.js'
import { startProxy } from '../support/tcp-proxy.js'
import { entered, oneTo, Recorder } from './watch.js'

test('in a cluster a subscriber moved to another node at every reconnect still sees 1..H once each', async (t) => {
  const { nodes } = await startCluster(t, 2, { maxHistoryPerTopic: 100_000 })
  const [a, b] = nodes
  assert.ok(a && b)
  await createTopic(a.url, 'orders')
  const proxy = await startProxy(t, a.address.port)
  const subscriber = createClient(`ws://127.0.0.1:${proxy.port}/ws`, { backoff: { minDelayMs: 5, maxDelayMs: 50 } })
  const publisher = createClient(b.wsUrl)
  t.after(() => {
    subscriber.close()
    publisher.close()
  })
  const seen = new Recorder()
  // last_n: a publish that overtakes the first subscribe is replayed, not lost to the test.
  const sub = subscriber.subscribe('orders', seen.callback, { lastN: 100_000 })
  const reasons: ResetReason[] = []
  sub.on('reset', ({ reason }) => reasons.push(reason))
  await entered(subscriber, 'connected')

  let publishing = true
  let head = 0
  const publishes = (async () => {
    for (let n = 1; publishing; n++) head = (await publisher.publish('orders', n)).seq
  })()
  for (let moves = 0; moves < 30;) {
    await seen.reached(seen.seqs.length + 1 + Math.floor(Math.random() * 20))
    proxy.target = proxy.target === a.address.port ? b.address.port : a.address.port
    if (proxy.cutAll() > 0) moves++
    else await entered(subscriber, 'connected')
  }
  publishing = false
  await publishes
  await seen.reached(head, 30_000)
  assert.deepEqual(seen.seqs, oneTo(head))
  assert.deepEqual(reasons, [])
})
