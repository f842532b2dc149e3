import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connect, createTopic, request, startServer } from '../helpers.js'

const EPOCH = 'abc.1'

/** Each subscribe, and the field its BAD_REQUEST must name. */
const BAD_SUBSCRIBES: [string, Record<string, unknown>, string][] = [
  ...([-1, 1.5, '5', null, 1e308, 2 ** 53, true, [], {}] as unknown[]).map((sinceSeq): [string, Record<string, unknown>, string] =>
    [`since_seq ${JSON.stringify(sinceSeq)}`, { since_seq: sinceSeq, epoch: EPOCH }, 'since_seq']),
  ['since_seq without epoch', { since_seq: 5 }, 'epoch'],
  ['epoch without since_seq', { epoch: EPOCH }, 'since_seq'],
  ...([5, null, true, {}, '', 'x'.repeat(65), 'a b', 'a/b', 'é', 'x'.repeat(1_000_000)] as unknown[]).map((epoch): [string, Record<string, unknown>, string] =>
    [`epoch ${JSON.stringify(epoch).slice(0, 20)}`, { since_seq: 5, epoch }, 'epoch']),
]

test('every bad since_seq or epoch gets BAD_REQUEST naming the field, and the connection still answers', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await connect(t, server.wsUrl)
  for (const [what, fields, field] of BAD_SUBSCRIBES) {
    client.send({ type: 'subscribe', topic: 'orders', request_id: what, ...fields })
    const reply = await client.next()
    assert.equal(reply.type, 'error', what)
    assert.equal(reply.request_id, what)
    assert.equal(reply.error?.code, 'BAD_REQUEST', what)
    assert.ok(reply.error?.message.startsWith(`'${field}' `), `${what}: ${reply.error?.message}`)
    assert.ok((reply.error?.message.length ?? 0) < 200, `${what}: the message echoes the value`)
    client.send({ type: 'ping', request_id: `after ${what}` })
    assert.deepEqual([(await client.next()).request_id], [`after ${what}`])
  }
  // None of them subscribed: a publish reaches nobody.
  const published = await request(server.url, 'POST', '/topics/orders/messages', { payload: 1 })
  assert.equal((published.body as { subscribers: number }).subscribers, 0)
})

test('the largest seq a JSON number carries exactly is accepted', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'subscribe', topic: 'orders', since_seq: 2 ** 53 - 1, epoch: EPOCH })
  const ack = await client.next()
  assert.deepEqual([ack.type, ack.recovered, ack.reason], ['ack', false, 'epoch_mismatch'])
})

test('bad since_seq, epoch and last_n query values get 400 naming the parameter', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const cases: [string, string][] = [
    ['since_seq=-1&epoch=e', 'since_seq'],
    ['since_seq=1.5&epoch=e', 'since_seq'],
    ['since_seq=&epoch=e', 'since_seq'],
    ['since_seq=9007199254740992&epoch=e', 'since_seq'],
    ['since_seq=1e3&epoch=e', 'since_seq'],
    ['since_seq=0x10&epoch=e', 'since_seq'],
    ['epoch=e', 'since_seq'],
    ['since_seq=5', 'epoch'],
    ['since_seq=5&epoch=', 'epoch'],
    ['since_seq=5&epoch=a%20b', 'epoch'],
    [`since_seq=5&epoch=${'x'.repeat(65)}`, 'epoch'],
    ['since_seq=5&epoch=e&last_n=-1', 'last_n'],
    ['last_n=1000000000', 'last_n'],
  ]
  for (const [query, parameter] of cases) {
    const res = await request(server.url, 'GET', `/topics/orders/messages?${query}`)
    assert.equal(res.status, 400, query)
    const body = res.body as { code: string; detail: string }
    assert.equal(body.code, 'BAD_REQUEST', query)
    assert.ok(body.detail.startsWith(`'${parameter}' `), `${query}: ${body.detail}`)
  }
})
