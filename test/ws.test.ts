import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { connect, createTopic, request, startServer, within, type Client, type Frame } from './helpers.js'
import { openSocket, parseResponse, readUntilClosed, upgradeRequest } from './raw-socket.js'

const isoTs = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

async function subscribed(t: Parameters<typeof connect>[0], wsUrl: string, topic: string): Promise<Client> {
  const client = await connect(t, wsUrl)
  client.send({ type: 'subscribe', topic })
  assert.equal((await client.next()).type, 'ack')
  return client
}

test('the six websocat lines of the previous service answer as before', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await connect(t, server.wsUrl)

  client.send('{"type":"subscribe","topic":"orders","client_id":"client-A","request_id":"sub-orders-1"}')
  const subAck = await client.next()
  const { epoch } = subAck
  assert.deepEqual(
    { ...subAck, ts: undefined },
    { type: 'ack', request_id: 'sub-orders-1', topic: 'orders', epoch, seq: 0, replayed: 0, status: 'ok', ts: undefined },
  )
  assert.match(subAck.ts, isoTs)
  assert.equal(typeof epoch, 'string')

  client.send('{"type":"publish","topic":"orders","request_id":"pub-orders-1","message":{"id":"a7a578a4-a4c3-4318-a6e5-55a2854955b3","payload":{"item":"Wireless Mouse","price":49.99}}}')
  const event = await client.next()
  assert.equal(event.type, 'event')
  assert.equal(event.topic, 'orders')
  assert.equal(event.seq, 1)
  assert.deepEqual(event.message, { id: 'a7a578a4-a4c3-4318-a6e5-55a2854955b3', payload: { item: 'Wireless Mouse', price: 49.99 } })
  const pubAck = await client.next()
  assert.equal(pubAck.type, 'ack')
  assert.equal(pubAck.request_id, 'pub-orders-1')
  assert.equal(pubAck.message_id, 'a7a578a4-a4c3-4318-a6e5-55a2854955b3')
  assert.equal(pubAck.seq, 1)
  assert.equal(pubAck.epoch, epoch)

  client.send('{"type":"ping","request_id":"ping-1"}')
  const pong = await client.next()
  assert.equal(pong.type, 'pong')
  assert.equal(pong.request_id, 'ping-1')

  client.send('{"type":"unsubscribe","topic":"orders","client_id":"client-A","request_id":"unsub-orders-1"}')
  const unsubAck = await client.next()
  assert.equal(unsubAck.type, 'ack')
  assert.equal(unsubAck.request_id, 'unsub-orders-1')

  client.send('{"type":"subscribe","topic":"orders","client_id":"client-C","last_n":10,"request_id":"sub-history-1"}')
  assert.equal((await client.next()).request_id, 'sub-history-1')
  const replayed = await client.next()
  assert.deepEqual([replayed.type, replayed.seq, replayed.ts], ['event', 1, event.ts])

  client.send('{"type":"subscribe","topic":"non-existent-topic","client_id":"client-D","request_id":"err-sub-1"}')
  const error = await client.next()
  assert.equal(error.type, 'error')
  assert.equal(error.request_id, 'err-sub-1')
  assert.deepEqual(error.error, { code: 'TOPIC_NOT_FOUND', message: "topic 'non-existent-topic' does not exist" })
  assert.deepEqual(await client.drain(), [])
})

test('every server frame carries an ISO-8601 UTC ts with milliseconds', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'subscribe', topic: 'orders' })
  client.send({ type: 'publish', topic: 'orders', message: { payload: 1 } })
  client.send({ type: 'subscribe', topic: 'missing' })
  const frames = await client.drain()
  assert.deepEqual(frames.map((f) => f.type), ['ack', 'event', 'ack', 'error'])
  for (const frame of frames) assert.match(frame.ts, isoTs)
})

test('a frame without request_id gets a reply without one', async (t) => {
  const server = await startServer(t)
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'ping' })
  const pong = JSON.parse(await client.nextRaw()) as Record<string, unknown>
  assert.equal(pong.type, 'pong')
  assert.equal('request_id' in pong, false)
})

test('publish without an id gets a server-assigned UUID v4 on the ack and the event', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const subscriber = await subscribed(t, server.wsUrl, 'orders')
  const publisher = await connect(t, server.wsUrl)
  publisher.send({ type: 'publish', topic: 'orders', request_id: 'p', message: { payload: 'x' } })
  const ack = await publisher.next()
  assert.match(ack.message_id ?? '', uuidV4)
  assert.equal((await subscriber.next()).message?.id, ack.message_id)
})

test('seq is 1 for a topic\'s first message and grows by one per publish', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'a')
  await createTopic(server.url, 'b')
  const client = await connect(t, server.wsUrl)
  for (const topic of ['a', 'a', 'b', 'a']) client.send({ type: 'publish', topic, message: { payload: 0 } })
  const acks = await client.drain()
  assert.deepEqual(acks.map((a) => [a.topic, a.seq]), [['a', 1], ['a', 2], ['b', 1], ['a', 3]])
})

test('publishing to or unsubscribing from a missing topic is TOPIC_NOT_FOUND', async (t) => {
  const server = await startServer(t)
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'publish', topic: 'ghost', request_id: 'p1', message: { payload: 1 } })
  client.send({ type: 'unsubscribe', topic: 'ghost', request_id: 'u1' })
  for (const requestId of ['p1', 'u1']) {
    const error = await client.next()
    assert.equal(error.request_id, requestId)
    assert.deepEqual(error.error, { code: 'TOPIC_NOT_FOUND', message: "topic 'ghost' does not exist" })
  }
})

test('unsubscribing from an existing topic one is not subscribed to is acked', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'unsubscribe', topic: 'orders', request_id: 'u' })
  const ack = await client.next()
  assert.deepEqual([ack.type, ack.request_id, ack.topic], ['ack', 'u', 'orders'])
})

test('after unsubscribe no more events arrive', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await subscribed(t, server.wsUrl, 'orders')
  client.send({ type: 'unsubscribe', topic: 'orders' })
  await client.next()
  await request(server.url, 'POST', '/topics/orders/messages', { payload: 1 })
  assert.deepEqual(await client.drain(), [])
})

test('subscribe with last_n sends the ack, then the held events oldest first, then live events', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  for (let i = 1; i <= 4; i++) await request(server.url, 'POST', '/topics/orders/messages', { payload: i })
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'subscribe', topic: 'orders', last_n: 3, request_id: 's' })
  assert.equal((await client.next()).type, 'ack')
  // Published once the subscription holds, so it is a live event, not part of the replay.
  await request(server.url, 'POST', '/topics/orders/messages', { payload: 5 })
  const frames = await client.drain()
  assert.deepEqual(frames.map((f) => [f.type, f.seq]), [['event', 2], ['event', 3], ['event', 4], ['event', 5]])
})

test('last_n above what is held replays everything held', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 2 })
  await createTopic(server.url, 'orders')
  for (let i = 1; i <= 3; i++) await request(server.url, 'POST', '/topics/orders/messages', { payload: i })
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'subscribe', topic: 'orders', last_n: 100 })
  assert.deepEqual((await client.drain()).map((f) => [f.type, f.seq]), [['ack', 3], ['event', 2], ['event', 3]])
})

test('MAX_HISTORY_PER_TOPIC=0 disables replay', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 0 })
  await createTopic(server.url, 'orders')
  await request(server.url, 'POST', '/topics/orders/messages', { payload: 1 })
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'subscribe', topic: 'orders', last_n: 5 })
  assert.deepEqual((await client.drain()).map((f) => f.type), ['ack'])
})

test('a replayed event is byte-identical to the live one', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const live = await subscribed(t, server.wsUrl, 'orders')
  await request(server.url, 'POST', '/topics/orders/messages', { id: 'm', payload: { nested: [1, 'two', null] } })
  const liveText = await live.nextRaw()
  const late = await connect(t, server.wsUrl)
  late.send({ type: 'subscribe', topic: 'orders', last_n: 1 })
  await late.next()
  assert.equal(await late.nextRaw(), liveText)
})

test('a repeated subscribe is acked, changes nothing and replays nothing', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  await request(server.url, 'POST', '/topics/orders/messages', { payload: 0 })
  const client = await subscribed(t, server.wsUrl, 'orders')
  client.send({ type: 'subscribe', topic: 'orders', last_n: 10, request_id: 'again' })
  const ack = await client.next()
  assert.deepEqual([ack.type, ack.request_id], ['ack', 'again'])
  await request(server.url, 'POST', '/topics/orders/messages', { payload: 1 })
  assert.deepEqual((await client.drain()).map((f) => f.seq), [2])
})

test('the publisher receives its own message when subscribed, before its ack', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await subscribed(t, server.wsUrl, 'orders')
  client.send({ type: 'publish', topic: 'orders', request_id: 'p', message: { payload: 1 } })
  assert.deepEqual((await client.drain()).map((f) => f.type), ['event', 'ack'])
})

test('deleting a topic sends topic_deleted to its subscribers, who stay connected', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await subscribed(t, server.wsUrl, 'orders')
  await request(server.url, 'DELETE', '/topics/orders')
  const info = await client.next()
  assert.deepEqual([info.type, info.topic, info.msg], ['info', 'orders', 'topic_deleted'])
  assert.match(info.ts, isoTs)
  await createTopic(server.url, 'orders')
  await request(server.url, 'POST', '/topics/orders/messages', { payload: 1 })
  assert.deepEqual(await client.drain(), [], 'the old subscription must not carry over to the new topic')
  assert.equal(client.ws.readyState, WebSocket.OPEN)
})

const badFrames: [string, string, string][] = [
  ['invalid JSON', '{"type"', 'frame is not valid JSON'],
  ['a JSON array', '[]', 'frame must be a JSON object with a "type" field'],
  ['an unknown type', '{"type":"dance","request_id":"r"}', "'type' must be one of subscribe, unsubscribe, publish, ping"],
  ['a missing topic', '{"type":"subscribe","request_id":"r"}', "'topic' must be a topic name"],
  ['a mistyped field', '{"type":"publish","topic":"t","message":"hi","request_id":"r"}', "'message' must be an object"],
  ['a negative last_n', '{"type":"subscribe","topic":"t","last_n":-2,"request_id":"r"}', "'last_n' must be an integer >= 0"],
  ['a fractional last_n', '{"type":"subscribe","topic":"t","last_n":0.5,"request_id":"r"}', "'last_n' must be an integer >= 0"],
]

for (const [shape, text, sentence] of badFrames) {
  test(`${shape} gets BAD_REQUEST and the connection stays open`, async (t) => {
    const server = await startServer(t)
    const client = await connect(t, server.wsUrl)
    client.send(text)
    const error = await client.next()
    assert.equal(error.type, 'error')
    assert.equal(error.error?.code, 'BAD_REQUEST')
    assert.ok(error.error?.message.startsWith(sentence), error.error?.message)
    if (text.includes('"request_id":"r"')) assert.equal(error.request_id, 'r')
    assert.deepEqual(await client.drain(), [])
  })
}

test('a binary frame gets BAD_REQUEST and the connection stays open', async (t) => {
  const server = await startServer(t)
  const client = await connect(t, server.wsUrl)
  client.ws.send(Buffer.from('{"type":"ping"}'), { binary: true })
  const error = await client.next()
  assert.equal(error.error?.code, 'BAD_REQUEST')
  assert.match(error.error?.message ?? '', /binary frames are not accepted/)
  assert.deepEqual(await client.drain(), [])
})

test('a frame over MAX_PAYLOAD_BYTES closes the connection with 1009', async (t) => {
  const server = await startServer(t, { maxPayloadBytes: 1024 })
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'ping', request_id: 'x'.repeat(2000) })
  const { code } = await within(client.closed, 'the close frame')
  assert.equal(code, 1009)
})

test('a WebSocket upgrade on another path is refused with 404 and the socket closed', async (t) => {
  const server = await startServer(t)
  const socket = await openSocket(t, server.address.port)
  socket.write(upgradeRequest(server.address.port, '/other'))
  const reply = parseResponse(await readUntilClosed(socket, 'the refusal and the close'))
  assert.equal(reply.status, 404)
})

test('per-message compression is not offered', async (t) => {
  const server = await startServer(t)
  const client = await connect(t, server.wsUrl, { perMessageDeflate: true })
  assert.equal(client.ws.extensions, '')
})

test('a plain HTTP GET on /ws is told to upgrade with 426', async (t) => {
  const server = await startServer(t)
  const res = await request(server.url, 'GET', '/ws')
  assert.equal(res.status, 426)
  assert.equal(res.headers.get('upgrade'), 'websocket')
})

test('subscribers joining with last_n while messages are published see gap-free, duplicate-free seq', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 1000 })
  await createTopic(server.url, 'race')
  const publisher = await connect(t, server.wsUrl)
  const total = 400
  const joiners: Client[] = []
  for (let i = 0; i < total; i++) {
    publisher.send({ type: 'publish', topic: 'race', message: { payload: i } })
    if (i % 40 === 20) {
      const joiner = await connect(t, server.wsUrl)
      joiner.send({ type: 'subscribe', topic: 'race', last_n: 1000 })
      joiners.push(joiner)
    }
  }
  await publisher.drain()
  for (const joiner of joiners) {
    const frames: Frame[] = await joiner.drain()
    assert.equal(frames[0]?.type, 'ack')
    const seqs = frames.slice(1).map((f) => f.seq)
    assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1))
  }
})
