import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { createClient, type ClientOptions, type ClientState, type PubSubClient, type PubSubEvent } from '../../src/client/browser.js'
import { fakeWebSocket, type FakeSocket } from './fake-socket.js'

/** Fast retries: these tests drive the sockets by hand. */
const QUICK: ClientOptions = { backoff: { minDelayMs: 1, maxDelayMs: 2 } }

function setup(t: TestContext, options: ClientOptions = {}): { client: PubSubClient; nextSocket(): Promise<FakeSocket>; states: ClientState[] } {
  const fake = fakeWebSocket()
  const client = createClient('ws://pubsub.test/ws', { ...QUICK, ...options, WebSocket: fake.WebSocket })
  const states: ClientState[] = []
  client.on('state', (state) => states.push(state))
  t.after(() => client.close())
  return { client, nextSocket: fake.nextSocket, states }
}

async function opened(nextSocket: () => Promise<FakeSocket>): Promise<FakeSocket> {
  const socket = await nextSocket()
  socket.open()
  return socket
}

/** Reads the client's next frame, which must be a subscribe, and acks it. */
async function ackSubscribe(socket: FakeSocket, fields: Record<string, unknown>): Promise<Record<string, unknown>> {
  const request = await socket.next()
  assert.equal(request.type, 'subscribe')
  socket.receive({ type: 'ack', request_id: request.request_id, topic: request.topic, status: 'ok', ...fields })
  return request
}

test('the position moves to an event before its callback runs; old events are dropped', async (t) => {
  const { client, nextSocket } = setup(t)
  const seen: { seq: number; positionSeq: number | undefined }[] = []
  const sub = client.subscribe('orders', (event) => seen.push({ seq: event.seq, positionSeq: sub.position?.seq }), { lastN: 2 })
  assert.equal(sub.state, 'subscribing')
  const socket = await opened(nextSocket)
  const request = await ackSubscribe(socket, { epoch: 'e1', seq: 5, replayed: 2 })
  assert.equal(request.last_n, 2)
  assert.equal(sub.state, 'subscribed')
  assert.deepEqual(sub.position, { epoch: 'e1', seq: 3 })
  for (const seq of [4, 5, 5, 3, 6]) socket.event('orders', seq)
  assert.deepEqual(seen, [{ seq: 4, positionSeq: 4 }, { seq: 5, positionSeq: 5 }, { seq: 6, positionSeq: 6 }])
  assert.deepEqual(sub.position, { epoch: 'e1', seq: 6 })
})

test('a gap resubscribes from the position and drops events until the new ack', async (t) => {
  const { client, nextSocket } = setup(t)
  const seqs: number[] = []
  client.subscribe('orders', (event) => seqs.push(event.seq), { lastN: 3 })
  const socket = await opened(nextSocket)
  await ackSubscribe(socket, { epoch: 'e1', seq: 0, replayed: 0 })
  socket.event('orders', 1)
  socket.event('orders', 3)
  const unsubscribe = await socket.next()
  assert.deepEqual([unsubscribe.type, unsubscribe.topic], ['unsubscribe', 'orders'])
  socket.event('orders', 4)
  const request = await ackSubscribe(socket, { epoch: 'e1', seq: 4, replayed: 3, recovered: true })
  assert.equal(request.since_seq, 1)
  assert.equal(request.epoch, 'e1')
  assert.equal(request.last_n, 3)
  for (const seq of [2, 3, 4]) socket.event('orders', seq)
  assert.deepEqual(seqs, [1, 2, 3, 4])
})

test('after a drop it reconnects, resumes from the position, and ignores the old socket', async (t) => {
  const { client, nextSocket, states } = setup(t)
  const seqs: number[] = []
  const sub = client.subscribe('orders', (event) => seqs.push(event.seq), { lastN: 10 })
  const first = await opened(nextSocket)
  await ackSubscribe(first, { epoch: 'e1', seq: 7, replayed: 0 })
  first.event('orders', 8)
  first.drop()
  assert.equal(sub.state, 'subscribing')
  first.event('orders', 9)
  const second = await opened(nextSocket)
  const request = await ackSubscribe(second, { epoch: 'e1', seq: 10, replayed: 2, recovered: true })
  assert.deepEqual([request.since_seq, request.epoch, request.last_n], [8, 'e1', 10])
  first.event('orders', 9)
  second.event('orders', 9)
  second.event('orders', 10)
  assert.deepEqual(seqs, [8, 9, 10])
  assert.deepEqual(states, ['connected', 'disconnected', 'connecting', 'connected'])
})

test('a failed resume resets the subscription, which goes on from the new incarnation', async (t) => {
  const { client, nextSocket } = setup(t)
  const seqs: number[] = []
  const sub = client.subscribe('orders', (event) => seqs.push(event.seq), { since: { epoch: 'old', seq: 40 }, lastN: 1 })
  const resets: string[] = []
  sub.on('reset', ({ reason }) => resets.push(`${reason} at ${sub.position?.epoch}:${sub.position?.seq}`))
  const socket = await opened(nextSocket)
  const request = await ackSubscribe(socket, { epoch: 'new', seq: 3, replayed: 1, recovered: false, reason: 'epoch_mismatch' })
  assert.deepEqual([request.since_seq, request.epoch], [40, 'old'])
  socket.event('orders', 3)
  assert.deepEqual(resets, ['epoch_mismatch at new:2'])
  assert.deepEqual(seqs, [3])
})

test('a deleted topic ends the subscription with a reset; resync_required resumes without one', async (t) => {
  const { client, nextSocket } = setup(t)
  const orders = client.subscribe('orders', () => {})
  const alerts = client.subscribe('alerts', () => {})
  const resets: string[] = []
  orders.on('reset', ({ reason }) => resets.push(`orders ${reason}`))
  alerts.on('reset', ({ reason }) => resets.push(`alerts ${reason}`))
  const socket = await opened(nextSocket)
  await ackSubscribe(socket, { epoch: 'e1', seq: 0, replayed: 0 })
  await ackSubscribe(socket, { epoch: 'e2', seq: 5, replayed: 0 })
  socket.receive({ type: 'info', topic: 'orders', msg: 'topic_deleted' })
  assert.equal(orders.state, 'unsubscribed')
  socket.receive({ type: 'info', topic: 'alerts', msg: 'resync_required' })
  assert.equal((await socket.next()).type, 'unsubscribe')
  const request = await ackSubscribe(socket, { epoch: 'e2', seq: 5, replayed: 0, recovered: true })
  assert.deepEqual([request.topic, request.since_seq, request.epoch], ['alerts', 5, 'e2'])
  assert.equal(alerts.state, 'subscribed')
  assert.deepEqual(resets, ['orders topic_deleted'])
  // The topic is free again for a new subscription.
  client.subscribe('orders', () => {})
})

test('a publish in flight when the connection drops rejects once, and is not sent again', async (t) => {
  const { client, nextSocket } = setup(t)
  const socket = await opened(nextSocket)
  let settled = 0
  const published = client.publish('orders', { item: 1 }, { id: 'o-1' }).finally(() => settled++)
  assert.deepEqual((await socket.next()).message, { id: 'o-1', payload: { item: 1 } })
  socket.drop()
  await assert.rejects(published, { name: 'PubSubError', code: 'DISCONNECTED' })
  const next = await opened(nextSocket)
  const later = client.publish('orders', 2)
  assert.deepEqual((await next.next()).message, { payload: 2 })
  next.receive({ type: 'ack', request_id: next.sent[0]?.request_id, topic: 'orders', message_id: 'm2', seq: 2, epoch: 'e', status: 'ok' })
  assert.deepEqual(await later, { messageId: 'm2', seq: 2, epoch: 'e' })
  assert.equal(settled, 1)
  assert.equal(socket.sent.length, 1)
})

test('a publish waits for a connection, and times out without one', async (t) => {
  const { client, nextSocket } = setup(t, { requestTimeoutMs: 50 })
  const timedOut = client.publish('orders', 1)
  const socket = await nextSocket()
  await assert.rejects(timedOut, { code: 'TIMEOUT' })
  const sent = client.publish('orders', 2)
  socket.open()
  const frame = await socket.next()
  assert.deepEqual(frame.message, { payload: 2 })
  socket.receive({ type: 'error', request_id: frame.request_id, error: { code: 'TOPIC_NOT_FOUND', message: "topic 'orders' does not exist" } })
  await assert.rejects(sent, { code: 'TOPIC_NOT_FOUND', message: "topic 'orders' does not exist" })
})

test('close rejects what is pending, ends subscriptions and stops reconnecting', async (t) => {
  const { client, nextSocket, states } = setup(t)
  const sub = client.subscribe('orders', () => {})
  const socket = await nextSocket()
  const pending = client.publish('orders', 1)
  client.close()
  await assert.rejects(pending, { code: 'CLOSED' })
  assert.equal(sub.state, 'unsubscribed')
  assert.equal(client.state, 'closed')
  socket.open()
  socket.drop()
  assert.deepEqual(states, ['closed'])
  assert.throws(() => client.subscribe('alerts', () => {}), /closed/)
})

test('a quiet server is pinged, and one that does not answer is dropped', async (t) => {
  const { nextSocket } = setup(t, { pingIntervalMs: 30, pingTimeoutMs: 30 })
  const first = await opened(nextSocket)
  const ping = await first.next()
  assert.equal(ping.type, 'ping')
  first.receive({ type: 'pong', request_id: ping.request_id })
  assert.equal((await first.next()).type, 'ping')
  const second = await opened(nextSocket)
  assert.equal(first.readyState, 3)
  assert.equal((await second.next()).type, 'ping')
})

test('the credential rides in the subprotocol, the query string, and comes fresh from a token function', async (t) => {
  let calls = 0
  const token = async (): Promise<string> => `jwt-${++calls}`
  const viaProtocol = setup(t, { token })
  const first = await opened(viaProtocol.nextSocket)
  assert.deepEqual(first.protocols, ['pubsub.v1', `pubsub.auth.${Buffer.from('jwt-1').toString('base64url')}`])
  assert.equal(first.url, 'ws://pubsub.test/ws')
  first.drop()
  const second = await viaProtocol.nextSocket()
  assert.equal(second.protocols[1], `pubsub.auth.${Buffer.from('jwt-2').toString('base64url')}`)
  const viaQuery = setup(t, { apiKey: 'k €/+', credentialIn: 'query' })
  const socket = await viaQuery.nextSocket()
  assert.equal(socket.url, 'ws://pubsub.test/ws?api_key=k%20%E2%82%AC%2F%2B')
  assert.deepEqual(socket.protocols, [])
})

test('bad options throw a TypeError naming the option', () => {
  const { WebSocket } = fakeWebSocket()
  assert.throws(() => createClient('http://x/ws', { WebSocket }), /`url`/)
  assert.throws(() => createClient('ws://x/ws', { WebSocket, apiKey: 'a', token: 'b' }), /`apiKey` or `token`/)
  assert.throws(() => createClient('ws://x/ws', { WebSocket, pingIntervalMs: 0 }), /`pingIntervalMs` to be an integer >= 1, got `0`/)
  assert.throws(() => createClient('ws://x/ws', { WebSocket, backoff: { minDelayMs: 100, maxDelayMs: 10 } }), /`maxDelayMs`/)
  assert.throws(() => createClient('ws://x/ws', { WebSocket, credentialIn: 'header' }), /`credentialIn`/)
  const client = createClient('ws://x/ws', { WebSocket })
  assert.throws(() => client.subscribe('t', () => {}, { lastN: -1 }), /`lastN`/)
  assert.throws(() => client.subscribe('t', () => {}, { since: { epoch: 'e', seq: 1.5 } }), /`since`/)
  client.subscribe('t', () => {})
  assert.throws(() => client.subscribe('t', () => {}), /already subscribed to 't'/)
  client.close()
})

test('a server that accepts and closes at once meets a growing delay; a healthy connection resets it', async (t) => {
  t.mock.method(Math, 'random', () => 0.999)
  // With random() near 1 each delay is its ceiling: 19, 39, 79, 159, 319 ms for the first five retries.
  const { nextSocket } = setup(t, { backoff: { minDelayMs: 20, maxDelayMs: 10_000 }, healthyAfterMs: 20, pingIntervalMs: 40 })
  const started = Date.now()
  for (let i = 0; i < 6; i++) (await opened(nextSocket)).drop()
  const elapsed = Date.now() - started
  assert.ok(elapsed >= 19 + 39 + 79 + 159 + 319, `six refusals took ${elapsed} ms`)
  const healthy = await opened(nextSocket)
  // The client pings after 40 quiet ms, by when the connection has been open longer than healthyAfterMs.
  assert.equal((await healthy.next()).type, 'ping')
  healthy.drop()
  const droppedAt = Date.now()
  await nextSocket()
  // Without the reset this delay would be 1279 ms.
  assert.ok(Date.now() - droppedAt < 1_000, `reconnected after ${Date.now() - droppedAt} ms`)
})

test('the event carries the topic, epoch, seq, id, payload and ts', async (t) => {
  const { client, nextSocket } = setup(t)
  const events: PubSubEvent[] = []
  client.subscribe('orders', (event) => events.push(event))
  const socket = await opened(nextSocket)
  await ackSubscribe(socket, { epoch: 'e1', seq: 0, replayed: 0 })
  socket.event('orders', 1, { item: 'mouse' })
  assert.deepEqual(events, [{ topic: 'orders', epoch: 'e1', seq: 1, id: 'm1', payload: { item: 'mouse' }, ts: '2026-01-01T00:00:00.000Z' }])
})

/** An unsigned JWT-shaped token: the client reads `exp` and leaves verifying to the server. */
const jwtExpiringIn = (ms: number, n: number): string =>
  ['{"alg":"HS256"}', JSON.stringify({ sub: 'u', n, exp: (Date.now() + ms) / 1000 })].map((part) => Buffer.from(part).toString('base64url')).join('.') + '.sig'

/** Which of the test's tokens this is. */
const issuedAs = (token: unknown): unknown => JSON.parse(Buffer.from(String(token).split('.')[1] ?? '', 'base64url').toString()).n

test('a token from a function is refreshed on the open connection before it expires', async (t) => {
  let issued = 0
  const { nextSocket } = setup(t, { token: () => jwtExpiringIn(200, ++issued) })
  const socket = await opened(nextSocket)
  const refresh = await socket.next()
  assert.equal(refresh.type, 'refresh')
  assert.equal(issuedAs(refresh.token), 2)
  socket.receive({ type: 'ack', request_id: refresh.request_id, status: 'ok' })
  const again = await socket.next()
  assert.equal(again.type, 'refresh')
  assert.equal(issuedAs(again.token), 3)
})

test('a subscription reports each change of its state as a state event', async (t) => {
  const { client, nextSocket } = setup(t)
  const sub = client.subscribe('orders', () => {})
  const states: string[] = []
  sub.on('state', (state) => states.push(state))
  const socket = await opened(nextSocket)
  await ackSubscribe(socket, { epoch: 'e1', seq: 0, replayed: 0 })
  socket.drop()
  const again = await opened(nextSocket)
  await ackSubscribe(again, { epoch: 'e1', seq: 0, replayed: 0, recovered: true })
  sub.unsubscribe()
  assert.deepEqual(states, ['subscribed', 'subscribing', 'subscribed', 'unsubscribed'])
})
