import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { createClient, type ClientOptions, type PubSubClient, type ResetReason } from '../../src/client/index.js'
import { createTopic, request, startServer, within, type TestServer } from '../helpers.js'
import { startProxy } from '../support/tcp-proxy.js'
import { entered, oneTo, Recorder } from './watch.js'

const QUICK: ClientOptions = { backoff: { minDelayMs: 5, maxDelayMs: 50 } }

function open(t: TestContext, url: string, options: ClientOptions = {}): PubSubClient {
  const client = createClient(url, { ...QUICK, ...options })
  t.after(() => client.close())
  return client
}

const wsUrlOf = (port: number): string => `ws://127.0.0.1:${port}/ws`

async function publishRest(server: TestServer, topic: string, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) {
    const res = await request(server.url, 'POST', `/topics/${topic}/messages`, { payload: n })
    assert.equal(res.status, 200, res.text)
  }
}

function resets(subscription: { on(name: 'reset', listener: (value: { reason: ResetReason }) => void): () => void }): ResetReason[] {
  const reasons: ResetReason[] = []
  subscription.on('reset', ({ reason }) => reasons.push(reason))
  return reasons
}

/** A client reaching `server` through a proxy the test can cut, subscribed to 'orders' with `lastN`, recording events and resets. */
async function subscribedThroughProxy(t: TestContext, server: TestServer, lastN: number) {
  const proxy = await startProxy(t, server.address.port)
  const client = open(t, wsUrlOf(proxy.port))
  const seen = new Recorder()
  const sub = client.subscribe('orders', seen.callback, { lastN })
  const reasons = resets(sub)
  await entered(client, 'connected')
  return { proxy, client, seen, sub, reasons }
}

test('killed 200 times at random while a publisher runs flat out, the callback sees 1..H in order, once each', async (t) => {
  // History deep enough that no outage outlives it: this test is about gaps and duplicates, not truncation.
  const server = await startServer(t, { maxHistoryPerTopic: 100_000 })
  await createTopic(server.url, 'orders')
  // last_n: a publish that overtakes the first subscribe is replayed, not lost to the test.
  const { proxy, client: subscriber, seen, sub, reasons } = await subscribedThroughProxy(t, server, 100_000)

  const publisher = open(t, server.wsUrl)
  let publishing = true
  let head = 0
  const publishes = (async () => {
    for (let n = 1; publishing; n++) head = (await publisher.publish('orders', n)).seq
  })()

  // Each kill comes after a random number of further events (0 included: mid-handshake or mid-replay).
  let kills = 0
  while (kills < 200) {
    await seen.reached(seen.seqs.length + Math.floor(Math.random() * 20))
    if (proxy.cutAll() > 0) kills++
    else await entered(subscriber, 'connected')
  }
  publishing = false
  await publishes
  await seen.reached(head, 30_000)
  assert.equal(seen.seqs.length, head, 'duplicates or extra events')
  assert.deepEqual(seen.seqs, oneTo(head))
  assert.deepEqual(seen.payloads, oneTo(head))
  assert.deepEqual(reasons, [])
  assert.deepEqual(sub.position, { epoch: (await publisher.publish('orders', 0)).epoch, seq: head })
  console.log(`200 kills, ${head} events delivered exactly once in order`)
})

test('after a server restart the subscription resets with epoch_mismatch and goes on from the new incarnation', async (t) => {
  const first = await startServer(t)
  await createTopic(first.url, 'orders')
  const { proxy, seen, sub, reasons } = await subscribedThroughProxy(t, first, 10)
  await publishRest(first, 'orders', 1, 3)
  await seen.reached(3)
  const before = sub.position

  // The new server holds the topic again, with the same head, before the client can reach it.
  proxy.refusing = true
  await first.close()
  const second = await startServer(t)
  await createTopic(second.url, 'orders')
  await publishRest(second, 'orders', 1, 3)
  proxy.target = second.address.port
  proxy.refusing = false

  await seen.reached(6)
  assert.deepEqual(reasons, ['epoch_mismatch'])
  assert.deepEqual(seen.payloads, [1, 2, 3, 1, 2, 3])
  assert.equal(sub.position?.seq, 3)
  assert.notEqual(sub.position?.epoch, before?.epoch)
})

test('a topic deleted and re-created while the client is away resets the subscription', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const { proxy, client, seen, sub, reasons } = await subscribedThroughProxy(t, server, 5)
  await publishRest(server, 'orders', 1, 2)
  await seen.reached(2)

  proxy.refusing = true
  proxy.cutAll()
  await entered(client, 'disconnected')
  assert.equal((await request(server.url, 'DELETE', '/topics/orders')).status, 200)
  await createTopic(server.url, 'orders')
  await publishRest(server, 'orders', 10, 11)
  proxy.refusing = false

  await seen.reached(4)
  assert.deepEqual(reasons, ['epoch_mismatch'])
  assert.deepEqual(seen.payloads, [1, 2, 10, 11])
  assert.equal(sub.state, 'subscribed')
})

test('a topic deleted while connected ends the subscription with a reset', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = open(t, server.wsUrl)
  const sub = client.subscribe('orders', () => {})
  const reset = within(new Promise<ResetReason>((resolve) => sub.on('reset', ({ reason }) => resolve(reason))), 'a reset')
  await entered(client, 'connected')
  await publishRest(server, 'orders', 1, 1)
  assert.equal((await request(server.url, 'DELETE', '/topics/orders')).status, 200)
  assert.equal(await reset, 'topic_deleted')
  assert.equal(sub.state, 'unsubscribed')
})

test('a position saved by one client resumes in another', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const first = open(t, server.wsUrl)
  const seen = new Recorder()
  const sub = first.subscribe('orders', seen.callback)
  await entered(first, 'connected')
  await publishRest(server, 'orders', 1, 3)
  await seen.reached(3)
  const saved = sub.position
  first.close()
  await publishRest(server, 'orders', 4, 6)

  const second = open(t, server.wsUrl)
  const later = new Recorder()
  const resumed = second.subscribe('orders', later.callback, saved ? { since: saved } : {})
  const reasons = resets(resumed)
  await later.reached(3)
  assert.deepEqual(later.seqs, [4, 5, 6])
  assert.deepEqual(reasons, [])
})

test('publish answers with the message id, seq and epoch, and a server error rejects it', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = open(t, server.wsUrl)
  const published = await client.publish('orders', { item: 'mouse' }, { id: 'order-1' })
  assert.equal(published.messageId, 'order-1')
  assert.equal(published.seq, 1)
  assert.match(published.epoch, /^[A-Za-z0-9._-]{1,64}$/)
  await assert.rejects(client.publish('nope', 1), { name: 'PubSubError', code: 'TOPIC_NOT_FOUND' })
})
