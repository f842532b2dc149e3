import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connect, createTopic, request, startServer, subscribedClient } from '../helpers.js'
import { startRedis } from '../support/redis-server.js'

test('a topic created on one node is subscribed on another and published to from a third', async (t) => {
  const redis = await startRedis()
  t.after(() => redis.stop())
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => startServer(t, { redisUrl: redis.url })))
  await createTopic(a!.url, 'orders')
  const subscriber = await subscribedClient(t, b!.wsUrl, 'orders')
  const publisher = await connect(t, c!.wsUrl)
  publisher.send({ type: 'publish', topic: 'orders', message: { payload: 1 } })
  const ack = await publisher.next()
  assert.equal(ack.seq, 1)
  const event = await subscriber.next()
  assert.equal(event.seq, 1)
  const res = await request(a!.url, 'POST', '/topics/orders/messages', { payload: 2 })
  assert.equal(res.status, 200)
  assert.equal((await subscriber.next()).seq, 2)
  console.log(JSON.stringify(res.body), (await request(c!.url, 'GET', '/topics')).text, (await request(c!.url, 'GET', '/health')).text)
})
