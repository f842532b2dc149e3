import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { connect as tcpConnect } from 'node:net'
import { test } from 'node:test'
import { connect, createTopic, request, startServer, within, type Frame, type HttpResult } from './helpers.js'
import { Contract } from './spec.js'

// Every real response below must be a documented status and media type of its
// operation, with a body that matches the documented schema.
const contract = new Contract()

async function check(base: string, method: string, template: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResult> {
  const res = await request(base, method, path, body, headers)
  contract.assertResponse(method, template, res)
  return res
}

/** Responses any path can give (unknown path, wrong method) live under components.responses. */
function checkShared(name: string, res: HttpResult): void {
  const validate = contract.validator(`/components/responses/${name}/content/application~1problem+json/schema`)
  assert.equal(res.headers.get('content-type'), 'application/problem+json')
  assert.ok(validate(JSON.parse(res.text)), `${name}: ${JSON.stringify(validate.errors)} ${res.text}`)
}

/** Sends a WebSocket upgrade by hand and returns the refusal as an HttpResult. */
function refusedUpgrade(base: string, path: string): Promise<HttpResult> {
  return within(new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    })
    req.on('upgrade', () => reject(new Error('the upgrade was accepted')))
    req.on('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => {
        const headers = new Headers()
        for (const [key, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(key, value)
        resolve({ status: res.statusCode ?? 0, headers, text, body: JSON.parse(text) })
      })
    })
    req.on('error', reject)
    req.end()
  }), 'the refused upgrade')
}

test('topic routes answer as documented, on success and on every error', async (t) => {
  const server = await startServer(t, { maxPayloadBytes: 1024 })
  const base = server.url
  assert.equal((await check(base, 'POST', '/topics', '/topics', { name: 'orders' })).status, 201)
  assert.equal((await check(base, 'POST', '/topics', '/topics', { name: 'orders' })).status, 409)
  assert.equal((await check(base, 'POST', '/topics', '/topics', { name: '-bad' })).status, 400)
  assert.equal((await check(base, 'POST', '/topics', '/topics', '{"name":')).status, 400)
  assert.equal((await check(base, 'POST', '/topics', '/topics', '')).status, 400)
  assert.equal((await check(base, 'POST', '/topics', '/topics', ['orders'])).status, 400)
  assert.equal((await check(base, 'POST', '/topics', '/topics', { name: 'x'.repeat(2000) })).status, 413)
  assert.equal((await check(base, 'GET', '/topics', '/topics')).status, 200)
  assert.equal((await check(base, 'DELETE', '/topics/{name}', '/topics/orders')).status, 200)
  assert.equal((await check(base, 'DELETE', '/topics/{name}', '/topics/orders')).status, 404)
  assert.equal((await check(base, 'DELETE', '/topics/{name}', '/topics/%2Fbad')).status, 400)
})

test('the topic limit is a documented 409', async (t) => {
  const server = await startServer(t, { maxTopics: 1 })
  await createTopic(server.url, 'one')
  const res = await check(server.url, 'POST', '/topics', '/topics', { name: 'two' })
  assert.equal((res.body as { code: string }).code, 'LIMIT_EXCEEDED')
})

test('message routes answer as documented, on success and on every error', async (t) => {
  const server = await startServer(t, { maxPayloadBytes: 1024 })
  const base = server.url
  const template = '/topics/{name}/messages'
  await createTopic(base, 'orders')
  assert.equal((await check(base, 'POST', template, '/topics/orders/messages', { payload: { item: 'Mouse' } })).status, 200)
  assert.equal((await check(base, 'POST', template, '/topics/orders/messages', { id: 'm-2', payload: null })).status, 200)
  assert.equal((await check(base, 'POST', template, '/topics/orders/messages', { id: '' , payload: 1 })).status, 400)
  assert.equal((await check(base, 'POST', template, '/topics/orders/messages', { nopayload: 1 })).status, 400)
  assert.equal((await check(base, 'POST', template, '/topics/orders/messages', 'not json')).status, 400)
  assert.equal((await check(base, 'POST', template, '/topics/orders/messages', { payload: 'x'.repeat(2000) })).status, 413)
  assert.equal((await check(base, 'POST', template, '/topics/missing/messages', { payload: 1 })).status, 404)
  assert.equal((await check(base, 'POST', template, '/topics/bad%20name/messages', { payload: 1 })).status, 400)

  const all = await check(base, 'GET', template, '/topics/orders/messages')
  assert.equal((all.body as { events: unknown[] }).events.length, 2)
  const last = await check(base, 'GET', template, '/topics/orders/messages?last_n=1')
  assert.equal((last.body as { events: unknown[] }).events.length, 1)
  assert.equal((await check(base, 'GET', template, '/topics/orders/messages?last_n=-1')).status, 400)
  assert.equal((await check(base, 'GET', template, '/topics/missing/messages')).status, 404)
})

test('positions and resume reads answer as documented', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 2 })
  const base = server.url
  const template = '/topics/{name}/messages'
  await createTopic(base, 'orders')
  const empty = await check(base, 'GET', '/topics/{name}', '/topics/orders')
  assert.equal((empty.body as { seq: number }).seq, 0)
  for (let i = 0; i < 3; i++) await check(base, 'POST', template, '/topics/orders/messages', { payload: i })
  const info = await check(base, 'GET', '/topics/{name}', '/topics/orders')
  const { epoch } = info.body as { epoch: string }
  assert.deepEqual(info.body, { name: 'orders', epoch, seq: 3, first_seq: 2, subscribers: 0 })
  assert.equal((await check(base, 'GET', '/topics/{name}', '/topics/missing')).status, 404)
  assert.equal((await check(base, 'GET', '/topics/{name}', '/topics/%2Fbad')).status, 400)

  const resumed = await check(base, 'GET', template, `/topics/orders/messages?since_seq=1&epoch=${epoch}`)
  assert.equal((resumed.body as { recovered: boolean }).recovered, true)
  for (const query of [`since_seq=0&epoch=${epoch}&last_n=1`, 'since_seq=3&epoch=other', `since_seq=9&epoch=${epoch}`]) {
    const failed = await check(base, 'GET', template, `/topics/orders/messages?${query}`)
    assert.equal((failed.body as { recovered: boolean }).recovered, false, query)
  }
  for (const query of ['since_seq=1', `epoch=${epoch}`, 'since_seq=-1&epoch=e', 'since_seq=1&epoch=', 'since_seq=1&epoch=a%20b']) {
    assert.equal((await check(base, 'GET', template, `/topics/orders/messages?${query}`)).status, 400, query)
  }
})

test('operations and documentation routes answer as documented', async (t) => {
  const server = await startServer(t)
  const base = server.url
  await createTopic(base, 'orders')
  for (const path of ['/health', '/stats', '/metrics', '/docs', '/openapi.yaml', '/openapi.json']) {
    assert.equal((await check(base, 'GET', path, path)).status, 200, path)
  }
  assert.equal((await check(base, 'GET', '/docs/{asset}', '/docs/swagger-ui.css')).status, 200)
  assert.equal((await check(base, 'GET', '/docs/{asset}', '/docs/favicon-16x16.png')).status, 200)
  assert.equal((await check(base, 'GET', '/docs/{asset}', '/docs/index.html')).status, 404)
  assert.equal((await check(base, 'GET', '/ws', '/ws')).status, 426)
  checkShared('NotFound', await request(base, 'GET', '/nowhere'))
  const wrongMethod = await request(base, 'PATCH', '/topics/orders')
  assert.equal(wrongMethod.headers.get('allow'), 'GET, DELETE, HEAD')
  checkShared('MethodNotAllowed', wrongMethod)
})

test('with an API key, refusals are the documented 401 and public routes stay open', async (t) => {
  const server = await startServer(t, { apiKey: 'k-123' })
  const base = server.url
  for (const [method, template, path] of [
    ['POST', '/topics', '/topics'], ['GET', '/topics', '/topics'], ['DELETE', '/topics/{name}', '/topics/orders'],
    ['POST', '/topics/{name}/messages', '/topics/orders/messages'], ['GET', '/topics/{name}/messages', '/topics/orders/messages'],
    ['GET', '/topics/{name}', '/topics/orders'],
    ['GET', '/stats', '/stats'], ['GET', '/metrics', '/metrics'], ['GET', '/ws', '/ws'],
  ] as const) {
    const res = await check(base, method, template, path, method === 'POST' ? {} : undefined)
    assert.equal(res.status, 401, `${method} ${path}`)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer')
  }
  const upgrade = await refusedUpgrade(base, '/ws')
  assert.equal(upgrade.status, 401)
  contract.assertResponse('GET', '/ws', upgrade)
  for (const path of ['/health', '/docs', '/openapi.yaml', '/openapi.json']) {
    assert.equal((await check(base, 'GET', path, path, undefined, {})).status, 200, path)
  }
  assert.equal((await check(base, 'GET', '/stats', '/stats', undefined, { 'x-api-key': 'k-123' })).status, 200)
})

test('every WebSocket frame matches ServerMessage, and the seed lines match ClientMessage', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const client = await connect(t, server.wsUrl)
  const seed = [
    { type: 'subscribe', topic: 'orders', client_id: 'client-A', request_id: 'sub-orders-1' },
    { type: 'publish', topic: 'orders', request_id: 'pub-orders-1', message: { id: 'a7a578a4-a4c3-4318-a6e5-55a2854955b3', payload: { item: 'Wireless Mouse', price: 49.99 } } },
    { type: 'ping', request_id: 'ping-1' },
    { type: 'unsubscribe', topic: 'orders', client_id: 'client-A', request_id: 'unsub-orders-1' },
    { type: 'subscribe', topic: 'orders', client_id: 'client-C', last_n: 10, request_id: 'sub-history-1' },
    { type: 'subscribe', topic: 'non-existent-topic', client_id: 'client-D', request_id: 'err-sub-1' },
    { type: 'publish', topic: 'orders', message: { payload: [1, 2] } },
    { type: 'ping' },
  ]
  for (const message of seed) {
    contract.assertSchema('ClientMessage', message)
    client.send(message)
  }
  client.send('{"type":"nonsense"}')
  const frames: Frame[] = await client.drain()
  await request(server.url, 'DELETE', '/topics/orders')
  frames.push(...(await client.drain()))
  for (const frame of frames) contract.assertSchema('ServerMessage', frame)
  const types = new Set(frames.map((f) => f.type))
  assert.deepEqual([...types].sort(), ['ack', 'error', 'event', 'info', 'pong'])
})

test('resume requests match ClientMessage, and every answer to them matches ServerMessage', async (t) => {
  const server = await startServer(t, { maxHistoryPerTopic: 2 })
  await createTopic(server.url, 'orders')
  const publisher = await connect(t, server.wsUrl)
  for (let i = 0; i < 3; i++) publisher.send({ type: 'publish', topic: 'orders', message: { payload: i } })
  const acks = await publisher.drain()
  const epoch = acks[0]?.epoch
  assert.equal(typeof epoch, 'string')
  const resumes = [
    { type: 'subscribe', topic: 'orders', since_seq: 1, epoch, request_id: 'recovered' },
    { type: 'subscribe', topic: 'orders', since_seq: 0, epoch, last_n: 1, request_id: 'history_truncated' },
    { type: 'subscribe', topic: 'orders', since_seq: 3, epoch: 'other', request_id: 'epoch_mismatch' },
    { type: 'subscribe', topic: 'orders', since_seq: 9, epoch, request_id: 'seq_ahead' },
  ]
  const frames: Frame[] = []
  for (const message of resumes) {
    contract.assertSchema('ClientMessage', message)
    const client = await connect(t, server.wsUrl)
    client.send(message)
    frames.push(...(await client.drain()))
  }
  for (const frame of [...acks, ...frames]) contract.assertSchema('ServerMessage', frame)
  const reasons = frames.filter((f) => f.type === 'ack').map((f) => f.reason ?? (f.recovered === true ? 'recovered' : undefined))
  assert.deepEqual(reasons, resumes.map((r) => r.request_id))
  assert.throws(() => contract.assertSchema('ClientMessage', { type: 'subscribe', topic: 'orders', since_seq: 1 }))
  assert.throws(() => contract.assertSchema('ClientMessage', { type: 'subscribe', topic: 'orders', since_seq: 1, epoch: '' }))
})

test('the schemas reject what the server must never send', () => {
  assert.throws(() => contract.assertSchema('ServerMessage', { type: 'ack', topic: 'orders', status: 'ok' }), /ts/)
  assert.throws(() => contract.assertSchema('ClientMessage', { type: 'subscribe', topic: 'orders', last_n: -1 }))
  assert.throws(() => contract.assertSchema('Problem', { type: 'about:blank', title: 'x', status: 400, detail: 'y', code: 'NOPE' }))
})

type RawResponse = { status: number; contentType: string; text: string }

/** Splits pipelined HTTP/1.1 responses (each with Content-Length) read from one socket. */
function splitResponses(raw: string): RawResponse[] {
  const responses: RawResponse[] = []
  let rest = raw
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n')
    const head = rest.slice(0, end)
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1])
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1])
    const contentType = /\r\ncontent-type: ([^\r]+)/i.exec(head)?.[1] ?? ''
    if (status === 100) {
      rest = rest.slice(end + 4)
      continue
    }
    responses.push({ status, contentType, text: rest.slice(end + 4, end + 4 + length) })
    rest = rest.slice(end + 4 + length)
  }
  return responses
}

test('during shutdown, health and every other route answer the documented 503', async (t) => {
  const server = await startServer(t, { shutdownTimeoutMs: 10_000 })
  // A client that reads nothing keeps shutdown waiting for its close handshake,
  // which keeps the HTTP connection below open long enough to be answered.
  const lingering = await connect(t, server.wsUrl)
  lingering.ws.pause()
  const socket = tcpConnect(server.address.port, '127.0.0.1')
  t.after(() => socket.destroy())
  let raw = ''
  socket.setEncoding('utf8')
  const continued = within(new Promise<void>((resolve) => {
    socket.on('data', (chunk: string) => {
      raw += chunk
      if (raw.includes('100 Continue')) resolve()
    })
  }), '100 Continue')
  const ended = within(new Promise<void>((resolve) => socket.on('end', resolve)), 'the server to end the connection')
  // 'Expect: 100-continue' makes the server confirm the request is in progress before shutdown starts.
  socket.write('POST /topics HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 15\r\n\r\n')
  await continued
  const closing = server.close()
  socket.write('{"name":"late"}GET /health HTTP/1.1\r\nHost: test\r\n\r\nGET /topics HTTP/1.1\r\nHost: test\r\n\r\n')
  await ended
  lingering.ws.resume()
  await closing

  const [created, health, topics] = splitResponses(raw)
  const asResult = (r: RawResponse | undefined): HttpResult => {
    assert.ok(r, `missing response in ${raw}`)
    return { status: r.status, headers: new Headers({ 'content-type': r.contentType }), text: r.text, body: JSON.parse(r.text) }
  }
  contract.assertResponse('POST', '/topics', asResult(created))
  const healthResult = asResult(health)
  assert.equal(healthResult.status, 503)
  assert.equal((healthResult.body as { status: string }).status, 'shutting_down')
  contract.assertResponse('GET', '/health', healthResult)
  const refused = asResult(topics)
  assert.equal(refused.status, 503)
  contract.assertResponse('GET', '/topics', refused)
})
