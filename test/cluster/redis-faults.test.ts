import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually } from '../fault-support.js'
import { connect, createTopic, request, subscribedClient, type Client, type Frame } from '../helpers.js'
import { readThrough, startCluster } from '../support/cluster.js'
import { redisCli } from '../support/redis-cli.js'

/** Publishes one event and returns the answer: an ack or an error. */
async function publish(publisher: Client, topic: string, payload: unknown): Promise<Frame> {
  publisher.send({ type: 'publish', topic, message: { payload } })
  return publisher.next()
}

const isHealthy = async (url: string): Promise<boolean> => (await request(url, 'GET', '/health')).status === 200

test('subscription connections killed in Redis while publishing: the nodes subscribe again and fill the gap from history', async (t) => {
  const { redis, nodes } = await startCluster(t, 3, { maxHistoryPerTopic: 1000 })
  const [a, b, c] = nodes as [typeof nodes[0], typeof nodes[0], typeof nodes[0]]
  await createTopic(a.url, 'orders')
  const onB = await subscribedClient(t, b.wsUrl, 'orders')
  const onC = await subscribedClient(t, c.wsUrl, 'orders')
  const publisher = await connect(t, a.wsUrl)
  const TOTAL = 300
  for (let i = 1; i <= TOTAL; i++) {
    if (i === 100) await redisCli(redis.port, 'CLIENT', 'KILL', 'TYPE', 'pubsub')
    assert.equal((await publish(publisher, 'orders', i)).seq, i)
  }
  for (const subscriber of [onB, onC]) {
    const { ledger, ended } = await readThrough(subscriber, 'orders', 0, TOTAL)
    assert.equal(ended, undefined, 'the history held every missed event: nothing ends')
    assert.equal(ledger.checked, TOTAL)
  }
  await b.waitForLog('redis subscriptions restored')
})

for (const aof of [true, false]) {
  test(`Redis killed and restarted ${aof ? 'with' : 'without'} its append-only file: UNAVAILABLE meanwhile, then the nodes recover by themselves`, async (t) => {
    const { redis, nodes } = await startCluster(t, 2, { heartbeatIntervalMs: 200 }, { appendOnly: aof })
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]]
    await createTopic(a.url, 'orders')
    const subscriber = await subscribedClient(t, b.wsUrl, 'orders')
    const publisher = await connect(t, a.wsUrl)
    for (let i = 1; i <= 5; i++) assert.equal((await publish(publisher, 'orders', i)).seq, i)

    await redis.kill()
    const refused = await publish(publisher, 'orders', 'lost?')
    assert.equal(refused.type, 'error')
    assert.equal(refused.error?.code, 'UNAVAILABLE')
    const rest = await request(a.url, 'POST', '/topics/orders/messages', { payload: 'lost?' })
    assert.equal(rest.status, 503)
    assert.equal((rest.body as { code: string }).code, 'UNAVAILABLE')
    assert.equal((await request(a.url, 'POST', '/topics', { name: 'other' })).status, 503)
    const health = await request(b.url, 'GET', '/health')
    assert.equal(health.status, 503)
    assert.equal((health.body as { status: string }).status, 'unavailable')

    await redis.restart()
    await eventually(async () => (await isHealthy(a.url)) && (await isHealthy(b.url)), 'both nodes to be healthy again')
    if (aof) {
      // Every acknowledged event was delivered: what the subscription missed, the stream held.
      assert.equal((await readThrough(subscriber, 'orders', 0, 5)).ledger.checked, 5)
      // Nothing acknowledged was lost: the seqs go on, the history holds them, the subscription too.
      // A burst into a Redis that has just lost its loaded scripts: the seqs still follow the requests' order.
      for (let i = 6; i <= 50; i++) publisher.send({ type: 'publish', topic: 'orders', message: { payload: i } })
      for (let i = 6; i <= 50; i++) assert.equal((await publisher.next()).seq, i)
      assert.equal((await readThrough(subscriber, 'orders', 5, 50)).ended, undefined)
      const history = await request(b.url, 'GET', '/topics/orders/messages')
      assert.deepEqual((history.body as { events: Frame[] }).events.map((e) => e.seq), Array.from({ length: 50 }, (_, i) => i + 1))
    } else {
      // The topics went with Redis's memory: subscribers are told, and the topic can be made again.
      // Redis may answer a publish before it has sent the event to the other node, so the last
      // acknowledged event may have died with it: events 1 to 4 or 5, in order, then the end.
      const { ledger, ended } = await readThrough(subscriber, 'orders', 0, 5)
      assert.ok(ledger.checked >= 4, `only ${ledger.checked} of the events Redis sent before the last ack arrived`)
      const end = ended ?? (await subscriber.next().then((f) => (f.type === 'info' ? f.msg : `a ${f.type} frame`)))
      assert.equal(end, 'topic_deleted')
      await createTopic(b.url, 'orders')
      assert.equal((await publish(publisher, 'orders', 'again')).seq, 1)
    }
  })
}
