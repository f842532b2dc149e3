import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually } from '../fault-support.js'
import { connect, createTopic, request } from '../helpers.js'
import { startCluster } from '../support/cluster.js'

test('/health and /metrics name the node; each node has its own id', async (t) => {
  const { nodes } = await startCluster(t, 2)
  const ids = await Promise.all(nodes.map(async (node) => {
    const health = (await request(node.url, 'GET', '/health')).body as { status: string; node_id: string }
    assert.equal(health.status, 'ok')
    const metrics = (await request(node.url, 'GET', '/metrics')).text
    assert.ok(metrics.includes(`pubsub_node_info{node_id="${health.node_id}"} 1`), metrics)
    assert.ok(metrics.includes('pubsub_redis_available 1'))
    return health.node_id
  }))
  assert.notEqual(ids[0], ids[1])
})

test('a connection that closes while its subscribe is under way leaves no subscription behind', async (t) => {
  const { nodes } = await startCluster(t, 2)
  await createTopic(nodes[0]!.url, 'orders')
  for (let i = 0; i < 5; i++) {
    const client = await connect(t, nodes[1]!.wsUrl)
    client.send({ type: 'subscribe', topic: 'orders' })
    client.ws.terminate()
  }
  const counts = async (): Promise<number[]> => {
    const topics = (await request(nodes[0]!.url, 'GET', '/topics')).body as { topics: { subscribers: number }[] }
    const health = (await request(nodes[1]!.url, 'GET', '/health')).body as { subscribers: number }
    return [topics.topics[0]?.subscribers ?? -1, health.subscribers]
  }
  await eventually(async () => (await counts()).every((n) => n === 0), 'no subscriber to be counted')
})
