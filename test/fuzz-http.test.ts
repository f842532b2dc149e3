import assert from 'node:assert/strict'
import { Agent, request as httpRequest } from 'node:http'
import test from 'node:test'
import fc from 'fast-check'
import { connect, createTopic, errorLines, request, startServer, WAIT_MS } from './helpers.js'
import { FUZZ_RUNS, httpInput, rawHttpInput, type HttpInput } from './fuzz-inputs.js'
import { openSocket, parseResponse, readUntilClosed } from './raw-socket.js'
import { assertNoPollution, confirmDelivered, ROOMY_QUEUE, snapshotPrototypes, watchAllTopics, type Acked } from './side-watch.js'
import { assertProblemDocument } from './wire-checks.js'

/** The share of the generated cases that fuzz-ws does not take. */
const HTTP_CASES = FUZZ_RUNS - Math.ceil(FUZZ_RUNS * 0.8)
const INTERIM_RESPONSES = /^(HTTP\/1\.1 1\d\d [^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/

/** Raw byte streams need a connection each, so they get a tenth of the HTTP share on top. */
const RAW_CASES = Math.ceil(HTTP_CASES / 10)

/**
 * One request with Node's client, which sends methods and paths verbatim (fetch would normalise them).
 * The body is always framed by Content-Length: Node's client sends a GET or HEAD body unframed, and
 * the server then rightly reads it as the next request.
 */
function send(agent: Agent, base: URL, input: HttpInput): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const headers = input.body === undefined ? input.headers : { ...input.headers, 'content-length': String(Buffer.byteLength(input.body)) }
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { agent, host: base.hostname, port: base.port, method: input.method, path: input.path, headers, signal: AbortSignal.timeout(WAIT_MS) },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(input.body)
  })
}

function checkHttpReply(input: HttpInput, reply: { status: number; headers: Record<string, string | string[] | undefined>; text: string }): void {
  const what = `${input.method} ${input.path} ${JSON.stringify(input.headers)} body ${JSON.stringify(input.body?.slice(0, 200))}`
  assert.ok(reply.status >= 200 && reply.status < 500, `status ${reply.status} for ${what}: ${reply.text.slice(0, 200)}`)
  const contentType = String(reply.headers['content-type'])
  if (reply.status === 405) assert.ok(reply.headers.allow, `405 without Allow for ${what}`)
  if (input.method === 'HEAD') return
  if (reply.status >= 400) return assertProblemDocument(reply.status, contentType, reply.text)
  assert.equal(contentType, 'application/json', `success without JSON for ${what}`)
  assert.doesNotThrow(() => JSON.parse(reply.text), `success body is not JSON for ${what}`)
}

test(`fuzzed HTTP requests (${HTTP_CASES} cases) get a JSON reply or a problem document, and nothing is lost`, { timeout: Math.max(20_000, HTTP_CASES * 20) }, async (t) => {
  const server = await startServer(t, { maxBufferedBytes: ROOMY_QUEUE })
  for (const topic of ['side:watch', 'fuzz-a', 'constructor']) await createTopic(server.url, topic)
  const side = await watchAllTopics(t, server, ['side:watch'])
  const publisher = await connect(t, server.wsUrl)
  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  t.after(() => agent.destroy())
  const base = new URL(server.url)
  const prototypes = snapshotPrototypes()
  const acked: Acked[] = []
  let cases = 0

  await fc.assert(
    fc.asyncProperty(httpInput, async (input) => {
      cases++
      // A publish on the side topic rides along with every request, so the watcher is checked throughout.
      publisher.send({ type: 'publish', topic: 'side:watch', message: { payload: { case: cases } } })
      checkHttpReply(input, await send(agent, base, input))
      const ack = await publisher.next()
      assert.equal(ack.type, 'ack', `side publish failed: ${JSON.stringify(ack)}`)
      acked.push({ topic: 'side:watch', seq: ack.seq ?? 0, id: ack.message_id ?? '' })
      assertNoPollution(prototypes)
    }),
    { numRuns: HTTP_CASES, endOnFailure: true, includeErrorInReport: true },
  )
  await confirmDelivered(side, acked)
  const health = await send(agent, base, { method: 'GET', path: '/health', headers: {}, body: undefined })
  assert.equal(health.status, 200)
  t.diagnostic(`http cases: ${cases} requests; side subscriber checked ${side.ledger.checked} events, 0 lost`)
  assert.deepEqual(errorLines(server.logs), [])
})

test(`raw HTTP byte streams (${RAW_CASES} cases) get a 101, a JSON reply, a problem document or nothing, and never take the server down`, { timeout: Math.max(20_000, RAW_CASES * 100) }, async (t) => {
  // Short deadlines, so a stream that stops half way through a request is answered quickly.
  const server = await startServer(t, { headersTimeoutMs: 500, requestTimeoutMs: 1_000 })
  await createTopic(server.url, 'fuzz-a')
  const prototypes = snapshotPrototypes()
  let answered = 0

  await fc.assert(
    fc.asyncProperty(rawHttpInput, async (bytes) => {
      const socket = await openSocket(t, server.address.port)
      const reply = readUntilClosed(socket, 'the server to finish with a raw stream')
      socket.end(bytes)
      const raw = await reply
      socket.destroy()
      assertNoPollution(prototypes)
      // A valid upgrade opened a WebSocket, which the half-close then ended: nothing more to check.
      if (raw.startsWith('HTTP/1.1 101 ')) return void answered++
      // An interim 100 Continue (the client sent Expect: 100-continue) precedes the real reply.
      const text = raw.replace(INTERIM_RESPONSES, '')
      if (text === '') return
      answered++
      const what = JSON.stringify(bytes.toString('latin1').slice(0, 300))
      const first = parseResponse(text)
      assert.ok(first.status >= 200 && first.status < 500, `status ${first.status} for ${what}: ${text.slice(0, 300)}`)
      const contentType = first.headers.get('content-type')
      const bodyText = first.body.slice(0, Number(first.headers.get('content-length') ?? first.body.length))
      // A reply to HEAD has headers only.
      if (bytes.toString('latin1').startsWith('HEAD ')) {
        if (first.status >= 400) assert.equal(contentType, 'application/problem+json', `HEAD ${first.status} without a problem type for ${what}`)
        return
      }
      if (first.status >= 400) assertProblemDocument(first.status, contentType, bodyText)
      else if (bodyText !== '') assert.equal(contentType, 'application/json', `success without JSON for ${what}`)
    }),
    { numRuns: RAW_CASES, endOnFailure: true, includeErrorInReport: true },
  )
  assert.equal((await request(server.url, 'GET', '/health')).status, 200)
  t.diagnostic(`raw http cases: ${RAW_CASES} byte streams, ${answered} answered`)
  // Only a stream with nothing to parse may go unanswered: a server that closed every one silently would pass the rest.
  assert.ok(answered >= RAW_CASES / 2, `only ${answered} of ${RAW_CASES} byte streams were answered`)
  assert.deepEqual(errorLines(server.logs), [])
})
