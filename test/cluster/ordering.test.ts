import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connect, createTopic, request, type Client, type Frame } from '../helpers.js'
import { startCluster } from '../support/cluster.js'

/** Reads `count` frames and returns the events' exact texts, failing on anything but events. */
async function events(client: Client, count: number): Promise<string[]> {
  const texts: string[] = []
  while (texts.length < count) {
    const text = await client.nextRaw()
    assert.equal((JSON.parse(text) as Frame).type, 'event', text)
    texts.push(text)
  }
  return texts
}

test('publishers on three nodes into one topic: seqs 1..N, every subscriber on every node gets them all in order, byte-identical', async (t) => {
  const PER_PUBLISHER = 100
  const { nodes } = await startCluster(t, 3, { maxHistoryPerTopic: 1000 })
  await createTopic(nodes[0]!.url, 'orders')
  const subscribers: Client[] = []
  for (const node of nodes) {
    for (let i = 0; i < 2; i++) {
      const client = await connect(t, node.wsUrl)
      client.send({ type: 'subscribe', topic: 'orders' })
      assert.equal((await client.next()).type, 'ack')
      subscribers.push(client)
    }
  }
  const publishers = await Promise.all(nodes.map((node) => connect(t, node.wsUrl)))
  const acked = await Promise.all(publishers.map(async (publisher, p) => {
    for (let i = 0; i < PER_PUBLISHER; i++) publisher.send({ type: 'publish', topic: 'orders', message: { id: `${p}-${i}`, payload: { p, i } } })
    const seqs: number[] = []
    for (let i = 0; i < PER_PUBLISHER; i++) {
      const ack = await publisher.next()
      assert.equal(ack.type, 'ack', JSON.stringify(ack))
      assert.equal(ack.message_id, `${p}-${i}`, 'acks come in request order')
      seqs.push(ack.seq ?? 0)
    }
    return seqs
  }))
  const total = 3 * PER_PUBLISHER
  assert.deepEqual(acked.flat().sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i + 1))
  for (const seqs of acked) assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'one publisher\'s seqs rise')

  const received = await Promise.all(subscribers.map((client) => events(client, total)))
  const first = received[0]!
  assert.deepEqual(first.map((text) => (JSON.parse(text) as Frame).seq), Array.from({ length: total }, (_, i) => i + 1))
  for (const texts of received) assert.deepEqual(texts, first)

  // History served by any node is the very bytes delivered live.
  const history = await request(nodes[2]!.url, 'GET', `/topics/orders/messages?last_n=${total}`)
  assert.ok(history.text.endsWith(`"events":[${first.join(',')}]}`), 'the REST history holds the live events\' exact text')
  const late = await connect(t, nodes[1]!.wsUrl)
  late.send({ type: 'subscribe', topic: 'orders', last_n: 10 })
  assert.equal((await late.next()).type, 'ack')
  assert.deepEqual(await events(late, 10), first.slice(-10))
})
