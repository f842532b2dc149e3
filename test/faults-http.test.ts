import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import test from 'node:test'
import { errorLines, request, startServer } from './helpers.js'
import { health, healthyPair } from './fault-support.js'
import { openSocket, parseResponse, readUntil, readUntilClosed, upgradeRequest, writeAllThenRead } from './raw-socket.js'
import { assertProblemDocument } from './wire-checks.js'

/** Short HTTP deadlines so the slow-client tests finish in about a second. */
const QUICK_TIMEOUTS = { headersTimeoutMs: 500, requestTimeoutMs: 1_000 }

test('a malformed request gets a problem document and the connection is closed', async (t) => {
  const server = await startServer(t)
  const malformed: [string, number][] = [
    ['FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400],
    ['GET /\x00 HTTP/1.1\r\n\r\n', 400],
    ['GET /health HTTP/1.1\r\n\r\n', 400], // no Host header
    ['POST /topics HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}', 417],
    [`GET / HTTP/1.1\r\nHost: x\r\nX-Large: ${'a'.repeat(17_000)}\r\n\r\n`, 431], // over Node's 16 KiB of headers
  ]
  for (const [bytes, status] of malformed) {
    const socket = await openSocket(t, server.address.port)
    socket.write(bytes)
    const reply = parseResponse(await readUntilClosed(socket, `the answer to ${JSON.stringify(bytes)}`))
    assert.equal(reply.status, status, JSON.stringify(bytes))
    assertProblemDocument(reply.status, reply.headers.get('content-type'), reply.body)
  }
})

test('an upgrade whose target no URL parser accepts is refused with 404, and the server keeps serving', async (t) => {
  const server = await startServer(t)
  // Each of these made `new URL` throw inside the upgrade listener, which ended the process.
  for (const target of ['//[', '//x:99999/ws', 'http://x:99999']) {
    const socket = await openSocket(t, server.address.port)
    socket.write(upgradeRequest(server.address.port, target))
    const reply = parseResponse(await readUntilClosed(socket, `the answer to an upgrade of ${target}`))
    assert.equal(reply.status, 404, target)
    assertProblemDocument(reply.status, reply.headers.get('content-type'), reply.body)
  }
  assert.equal((await request(server.url, 'GET', '/health')).status, 200)
})

test('an upgrade in absolute form, with a trailing slash or dot segments, opens a WebSocket on /ws', async (t) => {
  const server = await startServer(t)
  const port = server.address.port
  for (const target of [`http://127.0.0.1:${port}/ws`, `http://127.0.0.1:${port}/ws/?client=a`, '/ws/', '/x/../ws', '/ws#fragment']) {
    const socket = await openSocket(t, port)
    socket.write(upgradeRequest(port, target))
    const head = await readUntil(socket, '\r\n\r\n', `the answer to an upgrade of ${target}`)
    assert.match(head, /^HTTP\/1\.1 101 /, target)
  }
})

test('an upgrade with a method other than GET is refused with 405, Allow: GET and a problem document', async (t) => {
  const server = await startServer(t)
  const socket = await openSocket(t, server.address.port)
  socket.write(upgradeRequest(server.address.port).replace(/^GET /, 'POST '))
  const reply = parseResponse(await readUntilClosed(socket, 'the answer to a POST upgrade'))
  assert.equal(reply.headers.get('allow'), 'GET')
  assertProblemDocument(405, reply.headers.get('content-type'), reply.body)
})

test('HTTP timeouts that are not integers, or a request timeout below the header timeout, are refused', async () => {
  const { startServer: start } = await import('../src/server.js')
  await assert.rejects(start({ port: 0, headersTimeoutMs: 0 }), /Expected `headersTimeoutMs` to be an integer >= 1, got `0`/)
  await assert.rejects(start({ port: 0, headersTimeoutMs: 500, requestTimeoutMs: 100 }), /Expected `requestTimeoutMs` to be an integer >= headersTimeoutMs \(500\), got `100`/)
})

/** Writes `text` one byte at a time until the server closes the socket; bounded by the text's length. */
function dribble(socket: Socket, text: string, everyMs: number): void {
  let sent = 0
  const timer = setInterval(() => {
    if (sent >= text.length || socket.destroyed) return clearInterval(timer)
    socket.write(text[sent++] ?? '')
  }, everyMs)
  socket.once('close', () => clearInterval(timer))
}

test('a client sending its headers byte by byte gets 408 at the header timeout while others are served', async (t) => {
  const server = await startServer(t, QUICK_TIMEOUTS)
  const pair = await healthyPair(t, server, 'busy')
  const slow = await openSocket(t, server.address.port)
  const answer = readUntilClosed(slow, 'the server to drop the slow client')
  dribble(slow, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ' + 'x'.repeat(500) + '\r\n\r\n', 20)
  for (let i = 0; i < 5; i++) await pair.roundTrip()
  assert.equal((await health(server.url)).connections, 2)
  const reply = parseResponse(await answer)
  assert.equal(reply.status, 408)
  assertProblemDocument(reply.status, reply.headers.get('content-type'), reply.body)
  await pair.roundTrip()
})

test('a client sending its body byte by byte gets 408 at the request timeout while others are served', async (t) => {
  const server = await startServer(t, QUICK_TIMEOUTS)
  const pair = await healthyPair(t, server, 'busy')
  const slow = await openSocket(t, server.address.port)
  const answer = readUntilClosed(slow, 'the server to drop the slow client')
  const body = JSON.stringify({ payload: 'p'.repeat(400) })
  slow.write(`POST /topics/busy/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n`)
  dribble(slow, body, 20)
  for (let i = 0; i < 5; i++) await pair.roundTrip()
  const reply = parseResponse(await answer)
  assert.equal(reply.status, 408)
  assertProblemDocument(reply.status, reply.headers.get('content-type'), reply.body)
  await pair.roundTrip()
  assert.equal(pair.ledger.last('busy'), 6, 'the slow publish must not have been published')
  assert.deepEqual(errorLines(server.logs), [], 'a client cut off mid-body is not a server error')
})

for (const [how, vanish] of [
  ['closes its side', (socket: Socket) => socket.end()],
  ['resets the TCP connection', (socket: Socket) => socket.resetAndDestroy()],
] as const) {
  test(`a client that ${how} half way through a request body is not a server error`, async (t) => {
    const server = await startServer(t, QUICK_TIMEOUTS)
    const pair = await healthyPair(t, server, 'busy')
    const socket = await openSocket(t, server.address.port)
    socket.write('POST /topics/busy/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"payload":')
    await pair.roundTrip()
    vanish(socket)
    // Either way the HTTP parser reports the cut-off request, which the server logs at debug.
    await server.waitForLog('client error')
    await pair.roundTrip()
    assert.equal(pair.ledger.last('busy'), 2, 'the cut-off publish must not have been published')
    assert.deepEqual(errorLines(server.logs), [])
  })
}

test('an upgrade request that stalls half way is dropped at the header timeout', async (t) => {
  const server = await startServer(t, QUICK_TIMEOUTS)
  const pair = await healthyPair(t, server, 'busy')
  const stalled = await openSocket(t, server.address.port)
  const answer = readUntilClosed(stalled, 'the server to drop the stalled upgrade')
  stalled.write(upgradeRequest(server.address.port).slice(0, 60))
  await pair.roundTrip()
  const reply = parseResponse(await answer)
  assert.equal(reply.status, 408)
  assert.equal((await health(server.url)).connections, 2, 'the stalled upgrade must never count as a connection')
  await pair.roundTrip()
})

test('three hundred sockets that connect and never send a byte do not stop service, and are dropped', async (t) => {
  const server = await startServer(t, QUICK_TIMEOUTS)
  const pair = await healthyPair(t, server, 'busy')
  const idle = await Promise.all(Array.from({ length: 300 }, () => openSocket(t, server.address.port)))
  const allClosed = Promise.all(idle.map((socket) => readUntilClosed(socket, 'an idle socket to be dropped')))
  for (let i = 0; i < 5; i++) await pair.roundTrip()
  assert.equal((await request(server.url, 'GET', '/topics')).status, 200)
  const replies = (await allClosed).map(parseResponse)
  assert.ok(replies.every((r) => r.status === 408 || Number.isNaN(r.status)), 'an idle socket got something other than 408')
  await pair.roundTrip()
  assert.deepEqual(errorLines(server.logs), [])
})

/**
 * A POST /topics whose body is `size` bytes of JSON, headers and body in one string; its
 * length declared up front, or sent chunked so that the server finds it too large only
 * half way through.
 */
function oversizeUpload(size: number, framing: 'declared' | 'chunked' = 'declared', extraHeaders = ''): string {
  const body = JSON.stringify({ name: 'x'.repeat(size - 11) })
  const head = `POST /topics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extraHeaders}`
  if (framing === 'declared') return `${head}Content-Length: ${body.length}\r\n\r\n${body}`
  const chunks = body.match(/[^]{1,65536}/g) ?? []
  return `${head}Transfer-Encoding: chunked\r\n\r\n${chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`
}

test('fifty clients that upload an oversized body before reading all get the 413, and no reset', async (t) => {
  const server = await startServer(t)
  const uploads = [oversizeUpload(1_100_000, 'declared'), oversizeUpload(1_100_000, 'chunked')] // over the default 1 MiB
  const uploadOne = async (i: number): Promise<void> => {
    const socket = await openSocket(t, server.address.port)
    const { text, error } = await writeAllThenRead(socket, uploads[i % 2] ?? '', `the answer to upload ${i}`)
    const reply = parseResponse(text)
    assert.equal(reply.status, 413, `upload ${i}: ${error ?? ''} ${text.slice(0, 40)}`)
    assertProblemDocument(reply.status, reply.headers.get('content-type'), reply.body)
    // A reset is what loses the answer for a client still writing; the server must close cleanly.
    assert.equal(error, undefined, `upload ${i} was reset`)
  }
  for (let batch = 0; batch < 50; batch += 5) {
    await Promise.all([0, 1, 2, 3, 4].map((k) => uploadOne(batch + k)))
  }
  assert.equal((await request(server.url, 'GET', '/topics')).text, '{"topics":[]}')
})

test('Expect: 100-continue with a Content-Length over the limit is answered 413 at once, not 100 Continue', async (t) => {
  const server = await startServer(t)
  const socket = await openSocket(t, server.address.port)
  // What curl sends before a large upload: the headers, then it waits for 100 Continue.
  socket.write(oversizeUpload(1_100_000, 'declared', 'Expect: 100-continue\r\n').split('\r\n\r\n')[0] + '\r\n\r\n')
  const reply = parseResponse(await readUntilClosed(socket, 'the answer to an oversized Expect: 100-continue'))
  assert.equal(reply.status, 413)
  assert.equal(reply.headers.get('connection'), 'close')
  assertProblemDocument(reply.status, reply.headers.get('content-type'), reply.body)
})

test('what is dropped of a refused body is bounded: four times the limit, then the connection is reset', async (t) => {
  const server = await startServer(t, { maxPayloadBytes: 1_024 })
  const socket = await openSocket(t, server.address.port)
  const { error } = await writeAllThenRead(socket, oversizeUpload(1_000_000), 'a 1 MB upload against a 1 KiB limit')
  assert.ok(error !== undefined, 'the server read a megabyte it had refused')
  assert.equal((await request(server.url, 'GET', '/health')).status, 200)
})

test('a client that stalls in a refused body is dropped at the request timeout', async (t) => {
  const server = await startServer(t, { ...QUICK_TIMEOUTS, maxPayloadBytes: 1_024 })
  const socket = await openSocket(t, server.address.port)
  const closed = readUntilClosed(socket, 'the server to drop the stalled upload')
  socket.write(oversizeUpload(2_048).slice(0, -1_000)) // headers and part of the body, and then nothing
  const started = Date.now()
  const reply = parseResponse(await closed)
  assert.equal(reply.status, 413)
  assert.ok(Date.now() - started < QUICK_TIMEOUTS.requestTimeoutMs + 2_000, 'the stalled upload was kept past its deadline')
})
