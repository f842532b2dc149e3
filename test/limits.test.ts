import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connect, createTopic, request, startServer } from './helpers.js'

test('creating more topics than MAX_TOPICS is refused with 409 LIMIT_EXCEEDED', async (t) => {
  const { url } = await startServer(t, { maxTopics: 2 })
  await createTopic(url, 'a')
  await createTopic(url, 'b')
  const res = await request(url, 'POST', '/topics', { name: 'c' })
  assert.equal(res.status, 409)
  assert.equal((res.body as { code: string }).code, 'LIMIT_EXCEEDED')
  assert.match((res.body as { detail: string }).detail, /maximum of 2 topics/)
  await request(url, 'DELETE', '/topics/a')
  assert.equal((await request(url, 'POST', '/topics', { name: 'c' })).status, 201)
})

test('subscribing past MAX_SUBSCRIPTIONS_PER_CONNECTION is refused with BAD_REQUEST naming the limit', async (t) => {
  const server = await startServer(t, { maxSubscriptionsPerConnection: 2 })
  for (const name of ['a', 'b', 'c']) await createTopic(server.url, name)
  const client = await connect(t, server.wsUrl)
  for (const topic of ['a', 'b', 'c']) client.send({ type: 'subscribe', topic, request_id: topic })
  const frames = await client.drain()
  assert.deepEqual(frames.map((f) => [f.type, f.request_id]), [['ack', 'a'], ['ack', 'b'], ['error', 'c']])
  assert.deepEqual(frames[2]?.error, {
    code: 'BAD_REQUEST',
    message: "cannot subscribe to 'c': a connection may hold at most 2 subscriptions",
  })
  const other = await connect(t, server.wsUrl)
  other.send({ type: 'subscribe', topic: 'c' })
  assert.equal((await other.next()).type, 'ack', 'the limit is per connection')
})
