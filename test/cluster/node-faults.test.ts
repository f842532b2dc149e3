import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually } from '../fault-support.js'
import { connect, createTopic, request, subscribedClient, type Client, type Frame } from '../helpers.js'
import { readThrough, spawnNode } from '../support/cluster.js'
import { redisCli } from '../support/redis-cli.js'
import { startRedisServer, type RedisOptions } from '../support/redis-server.js'

/** Nodes here are processes, to be killed or stopped; each test has a Redis of its own. */
async function redisFor(t: Parameters<typeof spawnNode>[0], options: RedisOptions = {}): Promise<Awaited<ReturnType<typeof startRedisServer>>> {
  const redis = await startRedisServer(options)
  t.after(() => redis.stop())
  return redis
}

async function publish(publisher: Client, topic: string, payload: unknown): Promise<Frame> {
  publisher.send({ type: 'publish', topic, message: { payload } })
  return publisher.next()
}

const topicList = async (url: string): Promise<{ name: string; subscribers: number }[]> =>
  ((await request(url, 'GET', '/topics')).body as { topics: { name: string; subscribers: number }[] }).topics

test('a node killed while publishing: the others go on, its subscribers drop out of the counts, and a new node serves the history', async (t) => {
  const redis = await redisFor(t)
  const env = { HEARTBEAT_INTERVAL_MS: '200', MAX_HISTORY_PER_TOPIC: '1000' }
  const [a, b] = await Promise.all([spawnNode(t, redis.url, env), spawnNode(t, redis.url, env)])
  await createTopic(a.url, 'orders')
  await subscribedClient(t, a.wsUrl, 'orders')
  const onB = await subscribedClient(t, b.wsUrl, 'orders')
  assert.equal((await topicList(b.url))[0]?.subscribers, 2)
  const fromA = await connect(t, a.wsUrl)
  const fromB = await connect(t, b.wsUrl)
  for (let i = 0; i < 50; i++) fromA.send({ type: 'publish', topic: 'orders', message: { payload: i } })
  a.child.kill('SIGKILL')
  await a.exited
  // Of what A was sent, a prefix was published; B goes on from there.
  const last = (await publish(fromB, 'orders', 'after')).seq ?? 0
  assert.ok(last >= 1, 'B still publishes')
  const { ledger, ended } = await readThrough(onB, 'orders', 0, last)
  assert.equal(ended, undefined)
  assert.equal(ledger.checked, last)
  await eventually(async () => (await topicList(b.url))[0]?.subscribers === 1, "the dead node's subscriber to drop out of the count")

  const fresh = await spawnNode(t, redis.url, env)
  const history = await request(fresh.url, 'GET', '/topics/orders/messages')
  assert.deepEqual((history.body as { events: Frame[] }).events.map((e) => e.seq), Array.from({ length: last }, (_, i) => i + 1))
})

/**
 * Stops node B (SIGSTOP) while events for its subscriber pile up in Redis past
 * a small pub/sub output buffer limit, so that Redis cuts B's subscription,
 * then continues it. Returns what B's subscriber then reads.
 */
async function stopPastBufferLimit(t: Parameters<typeof spawnNode>[0], history: number): Promise<{ total: number; result: Awaited<ReturnType<typeof readThrough>> }> {
  // Cut at 256 KiB, 128 events of 2 KB: a history of 20,000 holds all that is missed, one of 10 does not.
  const redis = await redisFor(t, { args: ['--client-output-buffer-limit', 'pubsub 256kb 128kb 1'] })
  const env = { MAX_HISTORY_PER_TOPIC: String(history) }
  const [a, b] = await Promise.all([spawnNode(t, redis.url, env), spawnNode(t, redis.url, env)])
  await createTopic(a.url, 'orders')
  const subscriber = await subscribedClient(t, b.wsUrl, 'orders')
  const publisher = await connect(t, a.wsUrl)
  const payload = 'x'.repeat(2_000)
  b.child.kill('SIGSTOP')
  t.after(() => b.child.kill('SIGCONT'))
  let total = 0
  // Until Redis has cut the stopped node's subscription (the only one in pub/sub mode); bounded.
  while ((await redisCli(redis.port, 'CLIENT', 'LIST', 'TYPE', 'pubsub')) !== '') {
    assert.ok(total < 20_000, 'Redis never cut the stopped node\'s subscription')
    for (let i = 0; i < 100; i++) publisher.send({ type: 'publish', topic: 'orders', message: { payload } })
    for (let i = 0; i < 100; i++) assert.equal((await publisher.next()).seq, ++total)
  }
  b.child.kill('SIGCONT')
  const result = await readThrough(subscriber, 'orders', 0, total)
  await b.waitForLog('redis subscriptions restored')
  return { total, result }
}

test('a node stopped past the pub/sub output buffer limit, then continued: the history fills what it missed', async (t) => {
  const { total, result } = await stopPastBufferLimit(t, 20_000)
  assert.equal(result.ended, undefined)
  assert.equal(result.ledger.checked, total)
})

test('a node stopped past the pub/sub output buffer limit with a short history: the subscription ends with resync_required, never a gap', async (t) => {
  const { total, result } = await stopPastBufferLimit(t, 10)
  assert.equal(result.ended, 'resync_required')
  assert.ok(result.ledger.checked < total, 'some events were past the history')
})

test('a topic deleted and created again while a node is stopped: that node sees the new epoch and seqs from 1', async (t) => {
  const redis = await redisFor(t)
  const [a, b] = await Promise.all([spawnNode(t, redis.url), spawnNode(t, redis.url)])
  await createTopic(a.url, 'orders')
  const subscriber = await connect(t, b.wsUrl)
  subscriber.send({ type: 'subscribe', topic: 'orders' })
  const firstAck = await subscriber.next()
  const publisher = await connect(t, a.wsUrl)
  assert.equal((await publish(publisher, 'orders', 'old')).seq, 1)
  assert.equal((await subscriber.next()).seq, 1)

  b.child.kill('SIGSTOP')
  t.after(() => b.child.kill('SIGCONT'))
  assert.equal((await request(a.url, 'DELETE', '/topics/orders')).status, 200)
  await createTopic(a.url, 'orders')
  const fresh = await publish(publisher, 'orders', 'new')
  assert.equal(fresh.seq, 1)
  assert.notEqual(fresh.epoch, firstAck.epoch)
  b.child.kill('SIGCONT')

  assert.deepEqual(await subscriber.next().then((f) => [f.type, f.msg]), ['info', 'topic_deleted'])
  subscriber.send({ type: 'subscribe', topic: 'orders', last_n: 5 })
  const ack = (await subscriber.next()) as Frame & { epoch?: string }
  assert.equal(ack.epoch, fresh.epoch)
  assert.equal(ack.seq, 1)
  const replayed = await subscriber.next()
  assert.deepEqual([replayed.seq, replayed.message?.payload], [1, 'new'])
  const fromB = await connect(t, b.wsUrl)
  const next = (await publish(fromB, 'orders', 'newer')) as Frame & { epoch?: string }
  assert.deepEqual([next.seq, next.epoch], [2, fresh.epoch])
  assert.equal((await subscriber.next()).seq, 2)
})
