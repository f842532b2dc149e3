import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTopic, publishMany, request, startServer, subscribedClient, type Frame } from '../helpers.js'

type History = { topic: string; epoch: string; seq: number; recovered?: boolean; reason?: string; events: Frame[] }

const read = async (url: string, query: string): Promise<History> => {
  const res = await request(url, 'GET', `/topics/orders/messages${query}`)
  assert.equal(res.status, 200, res.text)
  return res.body as History
}

test('GET /topics/{name} tells the epoch, the head, the oldest held seq and the subscribers', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 50 })
  await createTopic(server.url, 'orders')
  const fresh = (await request(server.url, 'GET', '/topics/orders')).body as { epoch: string }
  assert.deepEqual(fresh, { name: 'orders', epoch: fresh.epoch, seq: 0, first_seq: 1, subscribers: 0 })
  await subscribedClient(t, server.wsUrl, 'orders')
  await publishMany(server.url, 'orders', 100)
  const res = await request(server.url, 'GET', '/topics/orders')
  assert.equal(res.status, 200)
  assert.deepEqual(res.body, { name: 'orders', epoch: fresh.epoch, seq: 100, first_seq: 51, subscribers: 1 })
  assert.equal((await request(server.url, 'GET', '/topics/missing')).status, 404)
})

test('with no history held, first_seq is the head plus one', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 0 })
  await createTopic(server.url, 'orders')
  await publishMany(server.url, 'orders', 3)
  const { seq, first_seq: firstSeq } = (await request(server.url, 'GET', '/topics/orders')).body as { seq: number; first_seq: number }
  assert.deepEqual([seq, firstSeq], [3, 4])
})

test('a history read with since_seq applies the resume rules', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 50 })
  await createTopic(server.url, 'orders')
  await publishMany(server.url, 'orders', 100)
  const { epoch } = await read(server.url, '?last_n=0')

  const resumed = await read(server.url, `?since_seq=50&epoch=${epoch}`)
  assert.deepEqual([resumed.epoch, resumed.seq, resumed.recovered, resumed.reason], [epoch, 100, true, undefined])
  assert.deepEqual(resumed.events.map((e) => e.seq), Array.from({ length: 50 }, (_, i) => 51 + i))

  const atHead = await read(server.url, `?since_seq=100&epoch=${epoch}&last_n=5`)
  assert.deepEqual([atHead.recovered, atHead.events.length], [true, 0])

  const truncated = await read(server.url, `?since_seq=49&epoch=${epoch}`)
  assert.deepEqual([truncated.recovered, truncated.reason, truncated.events.length], [false, 'history_truncated', 0])

  const fallback = await read(server.url, `?since_seq=49&epoch=${epoch}&last_n=2`)
  assert.deepEqual([fallback.reason, fallback.events.map((e) => e.seq)], ['history_truncated', [99, 100]])

  const ahead = await read(server.url, `?since_seq=150&epoch=${epoch}`)
  assert.deepEqual([ahead.recovered, ahead.reason, ahead.events.length], [false, 'seq_ahead', 0])

  const otherEpoch = await read(server.url, '?since_seq=100&epoch=gone.1&last_n=1')
  assert.deepEqual([otherEpoch.recovered, otherEpoch.reason, otherEpoch.events.map((e) => e.seq)], [false, 'epoch_mismatch', [100]])
})

test('a history read without since_seq answers as before, plus the epoch and the head', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 3 })
  await createTopic(server.url, 'orders')
  await publishMany(server.url, 'orders', 5)
  const all = await read(server.url, '')
  assert.deepEqual(Object.keys(all), ['topic', 'epoch', 'seq', 'events'])
  assert.deepEqual([all.topic, all.seq, all.events.map((e) => e.seq)], ['orders', 5, [3, 4, 5]])
  assert.deepEqual((await read(server.url, '?last_n=1')).events.map((e) => e.seq), [5])
})
