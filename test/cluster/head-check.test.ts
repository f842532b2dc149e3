import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTopic, subscribedClient } from '../helpers.js'
import { startCluster } from '../support/cluster.js'
import { redisCli } from '../support/redis-cli.js'

test('an event stored but never received on a quiet topic is found by the head checks and delivered', async (t) => {
  const { redis, nodes } = await startCluster(t, 1, { heartbeatIntervalMs: 100 })
  const node = nodes[0]!
  await createTopic(node.url, 'quiet')
  const subscriber = await subscribedClient(t, node.wsUrl, 'quiet')
  // What the publish script does, but without PUBLISH: as if the message were dropped on its way.
  // The stream holds the text after the seq; the node puts the text before it and the seq in front.
  const afterSeq = ',"message":{"id":"lost","payload":1},"ts":"2026-01-01T00:00:00.000Z"}'
  await redisCli(redis.port, 'HINCRBY', '{pubsub:quiet}:meta', 's', '1')
  await redisCli(redis.port, 'XADD', '{pubsub:quiet}:events', '1-0', 'd', afterSeq)
  assert.equal(await subscriber.nextRaw(), `{"type":"event","topic":"quiet","seq":1${afterSeq}`)
})
