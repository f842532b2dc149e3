import assert from 'node:assert/strict'
import { request as rawRequest } from 'node:http'
import { test } from 'node:test'
import { connect, createTopic, oneNode, request, startServer, subscribedClient, within } from './helpers.js'

const isoTs = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

function assertProblem(res: { status: number; headers: Headers; body: unknown }, status: number, code: string): void {
  assert.equal(res.status, status)
  assert.equal(res.headers.get('content-type'), 'application/problem+json')
  const body = res.body as Record<string, unknown>
  assert.equal(body.type, 'about:blank')
  assert.equal(body.status, status)
  assert.equal(body.code, code)
  assert.equal(typeof body.title, 'string')
  assert.equal(typeof body.detail, 'string')
}

test('POST /topics creates a topic and answers 201', async (t) => {
  const { url } = await startServer(t)
  const res = await request(url, 'POST', '/topics', { name: 'orders' })
  assert.equal(res.status, 201)
  assert.deepEqual(res.body, { status: 'created', topic: 'orders' })
})

test('POST /topics accepts a JSON body sent as curl\'s default form type', async (t) => {
  const { url } = await startServer(t)
  const res = await request(url, 'POST', '/topics', '{"name":"orders"}', { 'Content-Type': 'application/x-www-form-urlencoded' })
  assert.equal(res.status, 201)
})

test('POST /topics for an existing topic is 409 TOPIC_EXISTS', async (t) => {
  const { url } = await startServer(t)
  await createTopic(url, 'orders')
  const res = await request(url, 'POST', '/topics', { name: 'orders' })
  assertProblem(res, 409, 'TOPIC_EXISTS')
  assert.equal((res.body as { detail: string }).detail, "topic 'orders' already exists")
})

test('POST /topics with a bad name or body is 400 naming the problem', async (t) => {
  const { url } = await startServer(t)
  for (const body of [{ name: 'bad name' }, { name: '' }, { name: 7 }, {}]) {
    const res = await request(url, 'POST', '/topics', body)
    assertProblem(res, 400, 'BAD_REQUEST')
    assert.match((res.body as { detail: string }).detail, /'name' must be a topic name/)
  }
  assertProblem(await request(url, 'POST', '/topics', '[1]'), 400, 'BAD_REQUEST')
})

test('a topic name may be 128 characters long, not 129', async (t) => {
  const { url } = await startServer(t)
  assert.equal((await request(url, 'POST', '/topics', { name: 'n'.repeat(128) })).status, 201)
  assertProblem(await request(url, 'POST', '/topics', { name: 'n'.repeat(129) }), 400, 'BAD_REQUEST')
  assertProblem(await request(url, 'DELETE', `/topics/${'n'.repeat(129)}`), 400, 'BAD_REQUEST')
})

test('a body that is not valid JSON is 400', async (t) => {
  const { url } = await startServer(t)
  const res = await request(url, 'POST', '/topics', '{"name":')
  assertProblem(res, 400, 'BAD_REQUEST')
  assert.equal((res.body as { detail: string }).detail, 'request body is not valid JSON')
  assertProblem(await request(url, 'POST', '/topics', ''), 400, 'BAD_REQUEST')
})

test('GET /topics lists topics with their subscriber counts', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  await createTopic(server.url, 'news')
  await subscribedClient(t, server.wsUrl, 'orders')
  const res = await request(server.url, 'GET', '/topics')
  assert.equal(res.status, 200)
  assert.deepEqual(res.body, { topics: [{ name: 'orders', subscribers: 1 }, { name: 'news', subscribers: 0 }] })
})

test('DELETE /topics/{name} deletes and answers 200, then 404', async (t) => {
  const { url } = await startServer(t)
  await createTopic(url, 'orders')
  const res = await request(url, 'DELETE', '/topics/orders')
  assert.equal(res.status, 200)
  assert.deepEqual(res.body, { status: 'deleted', topic: 'orders' })
  assertProblem(await request(url, 'DELETE', '/topics/orders'), 404, 'TOPIC_NOT_FOUND')
})

test('an invalid topic name in the path is 400', async (t) => {
  const { url } = await startServer(t)
  assertProblem(await request(url, 'DELETE', '/topics/bad%20name'), 400, 'BAD_REQUEST')
  assertProblem(await request(url, 'GET', '/topics/.hidden/messages'), 400, 'BAD_REQUEST')
  assertProblem(await request(url, 'DELETE', '/topics/%zz'), 400, 'BAD_REQUEST') // not even percent-encoding
})

test('POST /topics/{name}/messages publishes and reports seq and subscribers', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await subscribedClient(t, server.wsUrl, 'orders')
  const res = await request(server.url, 'POST', '/topics/orders/messages', { id: 'm-1', payload: { item: 'Mouse' } })
  assert.equal(res.status, 200)
  const { epoch } = (await request(server.url, 'GET', '/topics/orders')).body as { epoch: string }
  assert.deepEqual(res.body, { status: 'published', topic: 'orders', message_id: 'm-1', seq: 1, epoch, subscribers: 1 })
  const event = await client.next()
  assert.deepEqual(event.message, { id: 'm-1', payload: { item: 'Mouse' } })
  assert.equal(event.seq, 1)
})

test('REST publish assigns a UUID v4 when no id is given', async (t) => {
  const { url } = await startServer(t)
  await createTopic(url, 'orders')
  const res = await request(url, 'POST', '/topics/orders/messages', { payload: 1 })
  assert.match((res.body as { message_id: string }).message_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
})

test('REST publish rejects a bad body with 400 and a missing topic with 404', async (t) => {
  const { url } = await startServer(t)
  await createTopic(url, 'orders')
  const noPayload = await request(url, 'POST', '/topics/orders/messages', { id: 'x' })
  assertProblem(noPayload, 400, 'BAD_REQUEST')
  assert.equal((noPayload.body as { detail: string }).detail, "'body.payload' is required (any JSON value)")
  assertProblem(await request(url, 'POST', '/topics/orders/messages', { id: '', payload: 1 }), 400, 'BAD_REQUEST')
  assertProblem(await request(url, 'POST', '/topics/orders/messages', { id: 'i'.repeat(257), payload: 1 }), 400, 'BAD_REQUEST')
  assert.equal((await request(url, 'POST', '/topics/orders/messages', { id: 'i'.repeat(256), payload: 1 })).status, 200)
  assertProblem(await request(url, 'POST', '/topics/nope/messages', { payload: 1 }), 404, 'TOPIC_NOT_FOUND')
})

test('REST and WebSocket publishes share one seq and one history', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'publish', topic: 'orders', message: { payload: 'ws' } })
  assert.equal((await client.next()).seq, 1)
  const rest = await request(server.url, 'POST', '/topics/orders/messages', { payload: 'rest' })
  assert.equal((rest.body as { seq: number }).seq, 2)
  const history = await request(server.url, 'GET', '/topics/orders/messages')
  const events = (history.body as { events: { seq: number; message: { payload: unknown } }[] }).events
  assert.deepEqual(events.map((e) => [e.seq, e.message.payload]), [[1, 'ws'], [2, 'rest']])
})

test('GET /topics/{name}/messages returns what replay would send, last_n oldest first', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 3 })
  await createTopic(server.url, 'orders')
  for (let i = 1; i <= 5; i++) await request(server.url, 'POST', '/topics/orders/messages', { payload: i })
  const res = await request(server.url, 'GET', '/topics/orders/messages?last_n=2')
  assert.equal(res.status, 200)
  const body = res.body as { topic: string; events: { type: string; seq: number; ts: string }[] }
  assert.equal(body.topic, 'orders')
  assert.deepEqual(body.events.map((e) => e.seq), [4, 5])
  assert.equal(body.events[0]?.type, 'event')
  assert.match(body.events[0]?.ts ?? '', isoTs)
  const all = await request(server.url, 'GET', '/topics/orders/messages')
  assert.deepEqual((all.body as typeof body).events.map((e) => e.seq), [3, 4, 5])

  const client = await connect(t, server.wsUrl)
  client.send({ type: 'subscribe', topic: 'orders', last_n: 2 })
  await client.next()
  const replayed = [await client.nextRaw(), await client.nextRaw()]
  assert.deepEqual(replayed.map((text) => JSON.parse(text)), body.events)
})

test('GET /topics/{name}/messages with a bad last_n is 400, an unknown topic 404', async (t) => {
  const { url } = await startServer(t)
  await createTopic(url, 'orders')
  for (const bad of ['-1', '1.5', 'ten', '']) {
    assertProblem(await request(url, 'GET', `/topics/orders/messages?last_n=${bad}`), 400, 'BAD_REQUEST')
  }
  assertProblem(await request(url, 'GET', '/topics/nope/messages'), 404, 'TOPIC_NOT_FOUND')
})

test('a topic deleted and created again starts afresh', async (t) => {
  const { url } = await startServer(t)
  await createTopic(url, 'orders')
  const before = (await request(url, 'POST', '/topics/orders/messages', { payload: 1 })).body as { epoch: string }
  await request(url, 'DELETE', '/topics/orders')
  await createTopic(url, 'orders')
  const { epoch } = (await request(url, 'GET', '/topics/orders/messages')).body as { epoch: string }
  assert.notEqual(epoch, before.epoch)
  assert.deepEqual((await request(url, 'GET', '/topics/orders/messages')).body, { topic: 'orders', epoch, seq: 0, events: [] })
  const stats = (await request(url, 'GET', '/stats')).body as { topics: unknown }
  assert.deepEqual(stats.topics, { orders: { messages: 0, subscribers: 0 } })
  assert.equal(((await request(url, 'POST', '/topics/orders/messages', { payload: 2 })).body as { seq: number }).seq, 1)
})

test('GET /health reports status, uptime and counts', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'a')
  await createTopic(server.url, 'b')
  // The counts are the node's own.
  const node = oneNode(server)
  const one = await connect(t, node.wsUrl)
  const two = await connect(t, node.wsUrl)
  one.send({ type: 'subscribe', topic: 'a' })
  one.send({ type: 'subscribe', topic: 'b' })
  two.send({ type: 'subscribe', topic: 'a' })
  await one.drain()
  await two.drain()
  const res = await request(node.url, 'GET', '/health')
  assert.equal(res.status, 200)
  const body = res.body as Record<string, unknown>
  assert.equal(body.status, 'ok')
  assert.equal(typeof body.uptime_sec, 'number')
  assert.deepEqual({ topics: body.topics, subscribers: body.subscribers, connections: body.connections }, {
    topics: 2, subscribers: 3, connections: 2,
  })
})

test('GET /stats reports messages and subscribers per topic', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  // The message and connection counters are the node's own; the topics are the service's.
  const node = oneNode(server)
  await subscribedClient(t, node.wsUrl, 'orders')
  for (let i = 0; i < 3; i++) await request(node.url, 'POST', '/topics/orders/messages', { payload: i })
  const body = (await request(node.url, 'GET', '/stats')).body as Record<string, unknown>
  assert.deepEqual(body.topics, { orders: { messages: 3, subscribers: 1 } })
  assert.equal(body.messages_published, 3)
  assert.equal(body.messages_delivered, 3)
  assert.equal(body.connections, 1)
})

test('an unknown path is 404 problem details', async (t) => {
  const { url } = await startServer(t)
  assertProblem(await request(url, 'GET', '/nope'), 404, 'NOT_FOUND')
})

test('a known path with a wrong method is 405 with an Allow header', async (t) => {
  const { url } = await startServer(t)
  const res = await request(url, 'PATCH', '/topics')
  assertProblem(res, 405, 'METHOD_NOT_ALLOWED')
  assert.equal(res.headers.get('allow'), 'POST, GET, HEAD')
  assert.equal((await request(url, 'POST', '/health')).headers.get('allow'), 'GET, HEAD')
})

test('a body over MAX_PAYLOAD_BYTES is 413', async (t) => {
  const { url } = await startServer(t, { maxPayloadBytes: 1024 })
  const res = await request(url, 'POST', '/topics', { name: 'x'.repeat(2048) })
  assertProblem(res, 413, 'PAYLOAD_TOO_LARGE')
})

test('an oversized chunked body is refused with 413 before it is all sent', async (t) => {
  const { url } = await startServer(t, { maxPayloadBytes: 1024 })
  const status = await within(new Promise<number>((resolve, reject) => {
    const req = rawRequest(url + '/topics', { method: 'POST' }, (res) => {
      resolve(res.statusCode ?? 0)
      req.destroy()
    })
    req.on('error', reject)
    // Send just over the limit and keep the request open: the answer must come anyway.
    req.write('x'.repeat(2048))
  }), 'the 413 answer')
  assert.equal(status, 413)
})
