import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { connect, createTopic, publishMany, request, startServer, type Client, type Frame } from '../helpers.js'
import { collectFrames, maskedTextFrame, openRawWebSocket, readUntil } from '../raw-socket.js'

const seqsOf = (frames: Frame[]): (number | undefined)[] => frames.map((f) => f.seq)
const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)

/** Sends one subscribe and returns its ack and every frame after it, up to a ping's pong. */
async function subscribe(client: Client, fields: object): Promise<{ ack: Frame; after: Frame[] }> {
  client.send({ type: 'subscribe', topic: 'orders', ...fields })
  const [ack, ...after] = await client.drain()
  assert.ok(ack, 'no ack')
  assert.equal(ack.type, 'ack', JSON.stringify(ack))
  return { ack, after }
}

/** A server holding 50 events of `orders`, after 100 were published. */
async function fullTopic(t: TestContext) {
  const server = await startServer(t, { maxHistoryPerTopic: 50 })
  await createTopic(server.url, 'orders')
  const epoch = await publishMany(server.url, 'orders', 100)
  return { server, epoch }
}

test('every subscribe ack carries the epoch, the head seq and how many events it replays', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await connect(t, server.wsUrl)
  const first = await subscribe(client, { request_id: 's1' })
  assert.equal(typeof first.ack.epoch, 'string')
  assert.deepEqual([first.ack.seq, first.ack.replayed, first.ack.recovered], [0, 0, undefined])
  const epoch = await publishMany(server.url, 'orders', 3)
  assert.equal(epoch, first.ack.epoch)
  await client.drain()
  const repeated = await subscribe(client, { last_n: 10 })
  assert.deepEqual([repeated.ack.epoch, repeated.ack.seq, repeated.ack.replayed], [epoch, 3, 0])
  assert.deepEqual(repeated.after, [])
  const other = await connect(t, server.wsUrl)
  const replaying = await subscribe(other, { last_n: 2 })
  assert.deepEqual([replaying.ack.seq, replaying.ack.replayed], [3, 2])
  assert.deepEqual(seqsOf(replaying.after), [2, 3])
})

test('the publish ack carries the topic epoch', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'publish', topic: 'orders', message: { payload: 1 } })
  const ack = await client.next()
  const info = await request(server.url, 'GET', '/topics/orders')
  assert.deepEqual([ack.type, ack.seq, ack.epoch], ['ack', 1, (info.body as { epoch: string }).epoch])
})

test('since_seq 50 with 51..100 held replays exactly 51..100 and is recovered', async (t) => {
  const { server, epoch } = await fullTopic(t)
  const { ack, after } = await subscribe(await connect(t, server.wsUrl), { since_seq: 50, epoch })
  assert.deepEqual([ack.epoch, ack.seq, ack.replayed, ack.recovered, ack.reason], [epoch, 100, 50, true, undefined])
  assert.deepEqual(seqsOf(after), range(51, 100))
})

test('since_seq 49 with 51..100 held is history_truncated and replays nothing without last_n', async (t) => {
  const { server, epoch } = await fullTopic(t)
  const { ack, after } = await subscribe(await connect(t, server.wsUrl), { since_seq: 49, epoch })
  assert.deepEqual([ack.seq, ack.replayed, ack.recovered, ack.reason], [100, 0, false, 'history_truncated'])
  assert.deepEqual(after, [])
})

test('a failed resume replays what last_n asks for, then goes on live', async (t) => {
  const { server, epoch } = await fullTopic(t)
  const client = await connect(t, server.wsUrl)
  const { ack, after } = await subscribe(client, { since_seq: 10, epoch, last_n: 3 })
  assert.deepEqual([ack.replayed, ack.recovered, ack.reason], [3, false, 'history_truncated'])
  assert.deepEqual(seqsOf(after), [98, 99, 100])
  await publishMany(server.url, 'orders', 1)
  assert.deepEqual(seqsOf(await client.drain()), [101])
})

test('since_seq at the head recovers with nothing replayed, and live events follow', async (t) => {
  const { server, epoch } = await fullTopic(t)
  const client = await connect(t, server.wsUrl)
  const { ack, after } = await subscribe(client, { since_seq: 100, epoch, last_n: 5 })
  assert.deepEqual([ack.seq, ack.replayed, ack.recovered], [100, 0, true])
  assert.deepEqual(after, [])
  await publishMany(server.url, 'orders', 2)
  assert.deepEqual(seqsOf(await client.drain()), [101, 102])
})

test('since_seq 0 with fewer events than the history holds replays 1..H', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 50 })
  await createTopic(server.url, 'orders')
  const epoch = await publishMany(server.url, 'orders', 30)
  const { ack, after } = await subscribe(await connect(t, server.wsUrl), { since_seq: 0, epoch })
  assert.deepEqual([ack.seq, ack.replayed, ack.recovered], [30, 30, true])
  assert.deepEqual(seqsOf(after), range(1, 30))
})

test('since_seq 0 on a topic with no events recovers with nothing', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const { epoch } = (await request(server.url, 'GET', '/topics/orders')).body as { epoch: string }
  const { ack, after } = await subscribe(await connect(t, server.wsUrl), { since_seq: 0, epoch })
  assert.deepEqual([ack.seq, ack.replayed, ack.recovered], [0, 0, true])
  assert.deepEqual(after, [])
})

test('since_seq beyond the head is seq_ahead: the subscription is live at once and never waits', async (t) => {
  const { server, epoch } = await fullTopic(t)
  const client = await connect(t, server.wsUrl)
  const { ack, after } = await subscribe(client, { since_seq: 150, epoch })
  assert.deepEqual([ack.seq, ack.replayed, ack.recovered, ack.reason], [100, 0, false, 'seq_ahead'])
  assert.deepEqual(after, [])
  await publishMany(server.url, 'orders', 1)
  assert.deepEqual(seqsOf(await client.drain()), [101])
})

test('a topic deleted and created again is epoch_mismatch, and last_n replays the new incarnation', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const old = await publishMany(server.url, 'orders', 5)
  assert.equal((await request(server.url, 'DELETE', '/topics/orders')).status, 200)
  await createTopic(server.url, 'orders')
  const epoch = await publishMany(server.url, 'orders', 5)
  assert.notEqual(epoch, old)
  // Same seq as before, same history length: only the epoch tells the two apart.
  const { ack, after } = await subscribe(await connect(t, server.wsUrl), { since_seq: 5, epoch: old, last_n: 2 })
  assert.deepEqual([ack.epoch, ack.seq, ack.replayed, ack.recovered, ack.reason], [epoch, 5, 2, false, 'epoch_mismatch'])
  assert.deepEqual(seqsOf(after), [4, 5])
  const published = (await request(server.url, 'GET', '/topics/orders/messages')).body as { events: Frame[] }
  assert.deepEqual(after, published.events.slice(-2))
})

test('after a server restart, a position with the very same head is epoch_mismatch', async (t) => {
  const first = await startServer(t)
  await createTopic(first.url, 'orders')
  const old = await publishMany(first.url, 'orders', 3)
  await first.close()
  const second = await startServer(t)
  await createTopic(second.url, 'orders')
  const epoch = await publishMany(second.url, 'orders', 3)
  assert.notEqual(epoch, old)
  const { ack, after } = await subscribe(await connect(t, second.wsUrl), { since_seq: 3, epoch: old, last_n: 10 })
  assert.deepEqual([ack.epoch, ack.seq, ack.replayed, ack.recovered, ack.reason], [epoch, 3, 3, false, 'epoch_mismatch'])
  assert.deepEqual(seqsOf(after), [1, 2, 3])
})

test('a resume and publishes handled in the same turn give no gap and no duplicate', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const epoch = await publishMany(server.url, 'orders', 3)
  const socket = await openRawWebSocket(t, server.address.port)
  const raw = collectFrames(socket)
  const answered = readUntil(socket, '"type":"pong"', 'the answers to one chunk of frames')
  // One TCP write: the server reads these frames in one chunk and handles them in one turn.
  socket.write(Buffer.concat([
    maskedTextFrame(JSON.stringify({ type: 'publish', topic: 'orders', message: { payload: 4 } })),
    maskedTextFrame(JSON.stringify({ type: 'subscribe', topic: 'orders', since_seq: 3, epoch })),
    maskedTextFrame(JSON.stringify({ type: 'publish', topic: 'orders', message: { payload: 5 } })),
    maskedTextFrame(JSON.stringify({ type: 'ping' })),
  ]))
  await answered
  const frames = raw.frames.map((f) => JSON.parse(f.payload.toString('utf8')) as Frame)
  assert.deepEqual(frames.map((f) => [f.type, f.seq]), [
    ['ack', 4], // the first publish
    ['ack', 4], // the subscribe: head 4, replaying 4
    ['event', 4],
    ['event', 5], // live
    ['ack', 5], // the second publish
    ['pong', undefined],
  ])
  assert.deepEqual([frames[1]?.replayed, frames[1]?.recovered], [1, true])
})

test('subscribers resuming while messages are published see every seq exactly once', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 1000 })
  await createTopic(server.url, 'race')
  const publisher = await connect(t, server.wsUrl)
  publisher.send({ type: 'publish', topic: 'race', message: { payload: 0 } })
  const { epoch } = await publisher.next()
  const total = 400
  const joiners: Client[] = []
  for (let i = 1; i < total; i++) {
    publisher.send({ type: 'publish', topic: 'race', message: { payload: i } })
    if (i % 40 === 20) {
      const joiner = await connect(t, server.wsUrl)
      joiner.send({ type: 'subscribe', topic: 'race', since_seq: 1, epoch })
      joiners.push(joiner)
    }
  }
  await publisher.drain()
  for (const joiner of joiners) {
    const [ack, ...events] = await joiner.drain()
    assert.deepEqual([ack?.type, ack?.recovered, ack?.replayed], ['ack', true, (ack?.seq ?? 0) - 1])
    assert.deepEqual(seqsOf(events), range(2, total))
  }
})
