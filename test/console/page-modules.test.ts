import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { base64url, checkMessageId, checkStart, checkTopic, parsePayload, subprotocols } from '../../console/checks.js'
import { RateHistory, sampleOf } from '../../console/rates.js'
import { Session } from '../../console/session.js'
import { createClient } from '../../src/client/index.js'
import { createTopic, request, startServer, within } from '../helpers.js'

test('the page checks topics, payloads, ids and start positions before sending', () => {
  assert.deepEqual(checkTopic('orders.eu:1'), { ok: true, value: 'orders.eu:1' })
  assert.equal(checkTopic('').ok, false)
  assert.equal(checkTopic('-orders').ok, false)
  assert.equal(checkTopic('a'.repeat(129)).ok, false)
  assert.deepEqual(parsePayload(' {"a": [1, null]} '), { ok: true, value: { a: [1, null] } })
  assert.deepEqual(parsePayload('null'), { ok: true, value: null })
  assert.match(String((parsePayload('   ') as { error: string }).error), /^Payload is required/)
  assert.match(String((parsePayload('{"a":') as { error: string }).error), /^Payload is not valid JSON: /)
  assert.deepEqual(checkMessageId(''), { ok: true, value: undefined })
  assert.deepEqual(checkMessageId('😀'.repeat(256)), { ok: true, value: '😀'.repeat(256) })
  assert.equal(checkMessageId('x'.repeat(257)).ok, false)

  assert.deepEqual(checkStart({ lastN: '', epoch: '', sinceSeq: '' }), { ok: true, value: {} })
  assert.deepEqual(checkStart({ lastN: '10', epoch: '', sinceSeq: '' }), { ok: true, value: { last_n: 10 } })
  assert.deepEqual(checkStart({ lastN: '5', epoch: 'e-1', sinceSeq: '0' }), { ok: true, value: { last_n: 5, epoch: 'e-1', since_seq: 0 } })
  for (const [fields, named] of [
    [{ lastN: '-1', epoch: '', sinceSeq: '' }, /^last_n/],
    [{ lastN: '1.5', epoch: '', sinceSeq: '' }, /^last_n/],
    [{ lastN: '', epoch: '', sinceSeq: '3' }, /^epoch/],
    [{ lastN: '', epoch: 'e', sinceSeq: '' }, /^since_seq/],
    [{ lastN: '', epoch: 'bad epoch', sinceSeq: '3' }, /^epoch/],
    [{ lastN: '', epoch: 'e', sinceSeq: '9007199254740992' }, /^since_seq/],
  ] as const) {
    const checked = checkStart(fields)
    assert.equal(checked.ok, false, JSON.stringify(fields))
    assert.match(String((checked as { error: string }).error), named, JSON.stringify(fields))
  }
})

test('a credential is offered as a base64url subprotocol after pubsub.v1', () => {
  assert.deepEqual(subprotocols(''), ['pubsub.v1'])
  const credential = 'kéy/with+chars?=='
  const [first, second] = subprotocols(credential)
  assert.equal(first, 'pubsub.v1')
  assert.equal(second, `pubsub.auth.${Buffer.from(credential).toString('base64url')}`)
  // Only characters a subprotocol token may hold: no padding, no '/' or '+'.
  assert.match(second ?? '', /^pubsub\.auth\.[A-Za-z0-9_-]+$/)
  assert.equal(base64url('\u00ff\u00fe'), Buffer.from('\u00ff\u00fe').toString('base64url'))
})

test('rates come from the growth of the counters between polls, over a sliding window', () => {
  const history = new RateHistory(10)
  const stats = (published: number, delivered: number, connections = 1) =>
    sampleOf({ connections, subscriptions: 2, messages_published: published, messages_delivered: delivered, topics: {} })
  assert.equal(sampleOf({ connections: 1 }), undefined)
  assert.equal(sampleOf({ connections: -1, subscriptions: 0, messages_published: 0, messages_delivered: 0 }), undefined)
  for (const [time, published, delivered] of [[100, 10, 20], [102, 14, 30], [103, 14, 30], [104, 2, 2], [112, 6, 10]] as const) {
    const sample = stats(published, delivered)
    assert.ok(sample)
    history.add(time, sample)
  }
  // 104: the counters went down (a restart), so no rate; 100..101 fell out of the 10 s window.
  assert.deepEqual(history.times, [102, 103, 104, 112])
  assert.deepEqual(history.published, [2, 0, null, 0.5])
  assert.deepEqual(history.delivered, [5, 0, null, 1])
  assert.deepEqual(history.connections, [1, 1, 1, 1])
})

test('the page session reports every frame and the client library\'s connection and subscription states', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  for (const payload of [1, 2, 3]) await request(server.url, 'POST', '/topics/orders/messages', { payload })
  const frames: [string, string][] = []
  const states: string[] = []
  let changed = (): void => {}
  const session = new Session({
    createClient,
    url: server.wsUrl,
    credential: '',
    events: {
      onFrame: (direction: string, text: string) => { frames.push([direction, text]); changed() },
      onState: (state: string) => { if (states.at(-1) !== state) states.push(state); changed() },
      onSubscriptions: () => changed(),
    },
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  })
  t.after(() => session.close())
  const until = (what: string, done: () => boolean): Promise<void> =>
    within(new Promise<void>((resolve) => {
      changed = () => { if (done()) resolve() }
      changed()
    }), what)
  type Row = { topic: string; state: string; lastSeq?: number; note?: string }
  const row = (topic: string): Row | undefined => session.subscriptions.find((s: Row) => s.topic === topic)

  await until('the session to connect', () => states.includes('connected'))
  session.subscribe('orders', { last_n: 2 })
  await until('two replayed events', () => row('orders')?.lastSeq === 3)
  assert.equal(row('orders')?.state, 'subscribed')
  session.subscribe('missing', {})
  await until('the refused subscribe', () => row('missing')?.state === 'unsubscribed')
  assert.match(String(row('missing')?.note), /^TOPIC_NOT_FOUND: /)
  const ack = await session.publish('orders', { n: 4 }, 'id-4')
  assert.deepEqual([ack.seq, ack.messageId], [4, 'id-4'])
  await until('the published event', () => row('orders')?.lastSeq === 4)
  session.unsubscribe('orders')
  assert.equal(row('orders'), undefined)
  session.ping()
  await until('the pong', () => frames.some(([direction, text]) => direction === 'in' && text.includes('"type":"pong"')))

  const sent = frames.filter(([direction]) => direction === 'out').map(([, text]) => JSON.parse(text) as Record<string, unknown>)
  assert.deepEqual(sent.map((f) => f.type), ['subscribe', 'subscribe', 'publish', 'unsubscribe', 'ping'])
  assert.deepEqual(sent[0]?.last_n, 2)
  assert.deepEqual(sent[2]?.message, { id: 'id-4', payload: { n: 4 } })
  const received = frames.filter(([direction]) => direction === 'in').map(([, text]) => JSON.parse(text) as Record<string, unknown>)
  assert.deepEqual(received.filter((f) => f.type === 'event').map((f) => f.seq), [2, 3, 4])

  session.close()
  assert.deepEqual(states, ['connecting', 'connected', 'closed'])
})
