import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Broker, type Subscriber } from '../src/broker/broker.js'
import { frameText } from '../src/frame.js'
import { ok } from '../src/protocol.js'

/** A subscriber that records every frame it is handed. */
class FakeSubscriber implements Subscriber {
  readonly frames: Buffer[] = []
  send(frame: Buffer): void {
    this.frames.push(frame)
  }
  parsed(): { type: string; seq?: number; msg?: string }[] {
    return this.frames.map((frame) => JSON.parse(frameText(frame)))
  }
}

const newBroker = (overrides: Partial<ConstructorParameters<typeof Broker>[0]> = {}): Broker => {
  let id = 0
  return new Broker({
    maxHistoryPerTopic: 3, maxTopics: 10, maxSubscriptionsPerConnection: 5,
    now: () => 1_000, newId: () => `id-${++id}`, ...overrides,
  })
}

/** The epoch a topic has now. */
const epochOf = (broker: Broker, name: string): string => {
  const info = broker.topicInfo(name)
  assert.ok(info.ok)
  return info.value.epoch
}

test('seq starts at 1 and counts every publish of a topic', () => {
  const broker = newBroker()
  broker.createTopic('a')
  broker.createTopic('b')
  const a = epochOf(broker, 'a')
  assert.deepEqual(broker.publish('a', { payload: 1 }), { ok: true, value: { id: 'id-1', seq: 1, epoch: a, subscribers: 0 } })
  assert.deepEqual(broker.publish('a', { payload: 2 }), { ok: true, value: { id: 'id-2', seq: 2, epoch: a, subscribers: 0 } })
  const third = broker.publish('a', { id: 'own', payload: 3 })
  assert.deepEqual(third, { ok: true, value: { id: 'own', seq: 3, epoch: a, subscribers: 0 } })
  const b = epochOf(broker, 'b')
  assert.deepEqual(broker.publish('b', { payload: 1 }), { ok: true, value: { id: 'id-3', seq: 1, epoch: b, subscribers: 0 } })
})

test('seq keeps counting after the history ring wraps', () => {
  const broker = newBroker()
  broker.createTopic('a')
  for (let i = 0; i < 10; i++) broker.publish('a', { payload: i })
  const history = broker.history('a', { lastN: 10 })
  assert.ok(history.ok)
  assert.deepEqual(history.value.events.map((frame) => JSON.parse(frameText(frame)).seq), [8, 9, 10])
})

test('every subscriber is handed the very same Buffer for an event', () => {
  const broker = newBroker()
  broker.createTopic('a')
  const one = new FakeSubscriber()
  const two = new FakeSubscriber()
  broker.subscribe('a', one, { lastN: 0 })
  broker.subscribe('a', two, { lastN: 0 })
  broker.publish('a', { payload: 'x' })
  assert.equal(one.frames.length, 1)
  assert.equal(one.frames[0], two.frames[0])
  const history = broker.history('a', { lastN: 1 })
  assert.ok(history.ok)
  assert.equal(history.value.events[0], one.frames[0])
})

test('history frames of different topics never share memory, so a quiet topic does not pin a busy one’s', () => {
  const broker = newBroker({ maxHistoryPerTopic: 50 })
  broker.createTopic('quiet')
  broker.createTopic('busy')
  for (let i = 0; i < 50; i++) {
    broker.publish('quiet', { payload: i })
    for (let k = 0; k < 30; k++) broker.publish('busy', { payload: 'x'.repeat(100) })
  }
  const quiet = broker.history('quiet', { lastN: 50 })
  const busy = broker.history('busy', { lastN: 50 })
  assert.ok(quiet.ok && busy.ok)
  const busyMemory = new Set(busy.value.events.map((frame) => frame.buffer))
  for (const frame of quiet.value.events) assert.ok(!busyMemory.has(frame.buffer), 'a quiet event shares memory with busy events')
  const pinned = new Set(quiet.value.events.map((frame) => frame.buffer))
  const pinnedBytes = [...pinned].reduce((sum, memory) => sum + memory.byteLength, 0)
  const heldBytes = quiet.value.events.reduce((sum, frame) => sum + frame.length, 0)
  assert.ok(pinnedBytes < heldBytes * 2 + 16 * 1024, `${pinnedBytes} bytes pinned for ${heldBytes} bytes of events`)
})

test('subscribe replays the last n held events, and they are the delivered bytes', () => {
  const broker = newBroker()
  broker.createTopic('a')
  const live = new FakeSubscriber()
  broker.subscribe('a', live, { lastN: 0 })
  for (let i = 0; i < 5; i++) broker.publish('a', { payload: i })
  const late = new FakeSubscriber()
  const subscribed = broker.subscribe('a', late, { lastN: 2 })
  assert.ok(subscribed.ok)
  assert.deepEqual(subscribed.value.events, live.frames.slice(3))
  assert.equal(subscribed.value.events[0], live.frames[3])
})

test('a repeated subscribe changes nothing and replays nothing', () => {
  const broker = newBroker()
  broker.createTopic('a')
  broker.publish('a', { payload: 0 })
  const sub = new FakeSubscriber()
  broker.subscribe('a', sub, { lastN: 0 })
  assert.deepEqual(broker.subscribe('a', sub, { lastN: 5 }), { ok: true, value: { epoch: epochOf(broker, 'a'), seq: 1, events: [] } })
  broker.publish('a', { payload: 1 })
  assert.equal(sub.frames.length, 1)
  assert.equal(broker.subscriptions, 1)
})

test('topics must exist before subscribe, unsubscribe, publish and history', () => {
  const broker = newBroker()
  const sub = new FakeSubscriber()
  const notFound = { ok: false, error: { code: 'TOPIC_NOT_FOUND', message: "topic 'x' does not exist" } }
  assert.deepEqual(broker.subscribe('x', sub, { lastN: 0 }), notFound)
  assert.deepEqual(broker.unsubscribe('x', sub), notFound)
  assert.deepEqual(broker.publish('x', { payload: 1 }), notFound)
  assert.deepEqual(broker.history('x', { lastN: 1 }), notFound)
  assert.deepEqual(broker.deleteTopic('x'), notFound)
})

test('creating an existing topic is refused', () => {
  const broker = newBroker()
  broker.createTopic('a')
  assert.deepEqual(broker.createTopic('a'), { ok: false, error: { code: 'TOPIC_EXISTS', message: "topic 'a' already exists" } })
})

test('unsubscribing from a topic one is not subscribed to succeeds', () => {
  const broker = newBroker()
  broker.createTopic('a')
  assert.equal(broker.unsubscribe('a', new FakeSubscriber()).ok, true)
})

test('deleting a topic tells its subscribers and drops their subscriptions', () => {
  const broker = newBroker()
  broker.createTopic('a')
  broker.createTopic('b')
  const sub = new FakeSubscriber()
  broker.subscribe('a', sub, { lastN: 0 })
  broker.subscribe('b', sub, { lastN: 0 })
  assert.deepEqual(broker.deleteTopic('a'), { ok: true, value: { subscribers: 1 } })
  assert.deepEqual(sub.parsed().map((f) => f.msg), ['topic_deleted'])
  assert.equal(broker.subscriptions, 1)
  assert.deepEqual(broker.unsubscribeAll(sub), ['b'])
})

test('a topic created again starts afresh, in a new epoch', () => {
  const broker = newBroker()
  broker.createTopic('a')
  const first = epochOf(broker, 'a')
  broker.publish('a', { payload: 1 })
  broker.deleteTopic('a')
  broker.createTopic('a')
  const second = epochOf(broker, 'a')
  assert.notEqual(second, first)
  assert.deepEqual(broker.history('a', { lastN: 10 }), { ok: true, value: { epoch: second, seq: 0, events: [] } })
  broker.publish('a', { payload: 1 })
  assert.deepEqual(broker.localStats().topics, [{ name: 'a', messages: 1, subscribers: 0 }])
})

test('unsubscribeAll removes a subscriber from exactly its topics', () => {
  const broker = newBroker()
  for (const name of ['a', 'b', 'c']) broker.createTopic(name)
  const sub = new FakeSubscriber()
  const other = new FakeSubscriber()
  broker.subscribe('a', sub, { lastN: 0 })
  broker.subscribe('c', sub, { lastN: 0 })
  broker.subscribe('a', other, { lastN: 0 })
  assert.deepEqual(broker.unsubscribeAll(sub).sort(), ['a', 'c'])
  assert.deepEqual(broker.unsubscribeAll(sub), [])
  assert.deepEqual(broker.listTopics(), ok([
    { name: 'a', subscribers: 1 }, { name: 'b', subscribers: 0 }, { name: 'c', subscribers: 0 },
  ]))
  assert.equal(broker.subscriptions, 1)
})

test('the topic limit refuses one topic too many', () => {
  const broker = newBroker({ maxTopics: 2 })
  broker.createTopic('a')
  broker.createTopic('b')
  const refused = broker.createTopic('c')
  assert.equal(refused.ok, false)
  assert.equal(!refused.ok && refused.error.code, 'LIMIT_EXCEEDED')
  broker.deleteTopic('a')
  assert.equal(broker.createTopic('c').ok, true)
})

test('the per-connection subscription limit refuses one subscription too many', () => {
  const broker = newBroker({ maxSubscriptionsPerConnection: 2 })
  for (const name of ['a', 'b', 'c']) broker.createTopic(name)
  const sub = new FakeSubscriber()
  broker.subscribe('a', sub, { lastN: 0 })
  broker.subscribe('b', sub, { lastN: 0 })
  const refused = broker.subscribe('c', sub, { lastN: 0 })
  assert.equal(!refused.ok && refused.error.message, "cannot subscribe to 'c': a connection may hold at most 2 subscriptions")
  assert.equal(broker.subscribe('c', new FakeSubscriber(), { lastN: 0 }).ok, true)
})

test('stats count published and delivered messages', () => {
  const broker = newBroker()
  broker.createTopic('a')
  broker.subscribe('a', new FakeSubscriber(), { lastN: 0 })
  broker.subscribe('a', new FakeSubscriber(), { lastN: 0 })
  broker.publish('a', { payload: 1 })
  broker.publish('a', { payload: 2 })
  const stats = broker.localStats()
  assert.equal(stats.messagesPublished, 2)
  assert.equal(stats.messagesDelivered, 4)
  assert.deepEqual(stats.topics, [{ name: 'a', messages: 2, subscribers: 2 }])
})

test('event ts is the broker clock at publish time', () => {
  const broker = newBroker({ now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) })
  broker.createTopic('a')
  broker.publish('a', { payload: 1 })
  const history = broker.history('a', { lastN: 1 })
  assert.equal(history.ok && JSON.parse(frameText(history.value.events[0] as Buffer)).ts, '2026-01-02T03:04:05.006Z')
})
