import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connect, request, createTopic, type Frame } from '../helpers.js'
import { collectFrames, maskedTextFrame, openRawWebSocket, readUntil } from '../raw-socket.js'
import { readThrough, startCluster } from '../support/cluster.js'
import { redisCli } from '../support/redis-cli.js'

const HISTORY = 50

test('a burst read in one turn, over two topics and past one batch, gets its seqs in request order and reaches every node whole', async (t) => {
  const { redis, nodes } = await startCluster(t, 2, { maxHistoryPerTopic: HISTORY })
  const [publishing, other] = [nodes[0]!, nodes[1]!]
  // Stream nodes of 100 entries whatever their size: trimming then leaves extra entries for sure.
  await redisCli(redis.port, 'CONFIG', 'SET', 'stream-node-max-bytes', '0')
  await redisCli(redis.port, 'CONFIG', 'SET', 'stream-node-max-entries', '100')
  await createTopic(publishing.url, 'a')
  await createTopic(publishing.url, 'b')
  const subscriber = await connect(t, other.wsUrl)
  for (const topic of ['a', 'b']) {
    subscriber.send({ type: 'subscribe', topic })
    assert.equal((await subscriber.next()).type, 'ack')
  }

  // Two of every three to 'a': 154 events there, more than one batch (100) holds.
  const topics = Array.from({ length: 231 }, (_, i) => (i % 3 === 2 ? 'b' : 'a'))
  const socket = await openRawWebSocket(t, publishing.address.port)
  const raw = collectFrames(socket)
  const answered = readUntil(socket, '"request_id":"230"', 'the ack of the last publish')
  // One TCP write: the node reads the whole burst in one chunk and handles it in one turn.
  socket.write(Buffer.concat(topics.map((topic, i) =>
    maskedTextFrame(JSON.stringify({ type: 'publish', request_id: String(i), topic, message: { id: `m${i}`, payload: i } })))))
  await answered

  const acks = raw.frames.map((f) => JSON.parse(f.payload.toString('utf8')) as Frame)
  assert.deepEqual(acks.map((ack) => ack.request_id), topics.map((_, i) => String(i)), 'acks come in request order')
  const expected = { a: 0, b: 0 }
  for (const [i, ack] of acks.entries()) {
    const topic = topics[i] as 'a' | 'b'
    assert.deepEqual([ack.type, ack.topic, ack.seq], ['ack', topic, ++expected[topic]], JSON.stringify(ack))
  }

  // The other node delivers both topics whole, in order, with the ids in request order.
  const live: Record<string, string[]> = { a: [], b: [] }
  for (let received = 0; received < topics.length; received++) {
    const event = await subscriber.next()
    assert.equal(event.type, 'event')
    live[event.topic as string]!.push(event.message?.id ?? '')
  }
  assert.deepEqual(live.a, topics.flatMap((topic, i) => (topic === 'a' ? [`m${i}`] : [])))
  assert.deepEqual(live.b, topics.flatMap((topic, i) => (topic === 'b' ? [`m${i}`] : [])))

  // The stream keeps more than the history (it is trimmed a stream node at a time), but no read shows it.
  assert.ok(Number(await redisCli(redis.port, 'XLEN', '{pubsub:a}:events')) > HISTORY, 'approximate trimming left extra entries')
  const info = await request(other.url, 'GET', '/topics/a')
  assert.deepEqual(info.body, { name: 'a', epoch: acks[0]!.epoch, seq: expected.a, first_seq: expected.a - HISTORY + 1, subscribers: 1 })
  const late = await connect(t, nodes[0]!.wsUrl)
  late.send({ type: 'subscribe', topic: 'a', since_seq: 1, epoch: acks[0]!.epoch, last_n: 1000 })
  const ack = await late.next()
  assert.deepEqual([ack.replayed, ack.recovered, ack.reason], [HISTORY, false, 'history_truncated'])
  const { ledger } = await readThrough(late, 'a', expected.a - HISTORY, expected.a)
  assert.equal(ledger.checked, HISTORY)
})
