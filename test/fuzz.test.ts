import assert from 'node:assert/strict'
import { Agent, request as httpRequest } from 'node:http'
import test, { type TestContext } from 'node:test'
import fc from 'fast-check'
import { connect, createTopic, startServer, WAIT_MS, within, type Client, type Frame, type TestServer } from './helpers.js'
import { FUZZ_RUNS, httpInput, LIVE_TOPICS, wsInput, type HttpInput, type WsInput } from './fuzz-inputs.js'
import { SeqLedger } from './seq-ledger.js'
import { assertProblemDocument, parseServerFrame } from './wire-checks.js'

/** Frames sent before each ping barrier: enough to batch, few enough to read a failure. */
const FRAMES_PER_BATCH = 50
/** Most cases are WebSocket frames; the rest are HTTP requests. */
const WS_CASES = Math.ceil(FUZZ_RUNS * 0.8)
const HTTP_CASES = FUZZ_RUNS - WS_CASES
/** Long generated strings fan out to every subscriber; a roomy queue keeps the slow-consumer rule out of these properties. */
const ROOMY_QUEUE = 256 * 1024 * 1024

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype]
const snapshotPrototypes = (): string[][] => PROTOTYPES.map((p) => Reflect.ownKeys(p).map(String).sort())

function assertNoPollution(before: string[][]): void {
  assert.deepEqual(snapshotPrototypes(), before, 'a built-in prototype gained or lost a property')
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted')
}

/** Reads raw frames up to the pong of a fresh ping, checking every one is a well-formed server message. */
async function framesUntilPong(client: Client, barrier: string): Promise<Frame[]> {
  client.send({ type: 'ping', request_id: barrier })
  const frames: Frame[] = []
  for (;;) {
    const frame = parseServerFrame(await client.nextRaw())
    if (frame.type === 'pong' && frame.request_id === barrier) return frames
    frames.push(frame)
  }
}

const parsedText = (input: WsInput): unknown => {
  if (input.kind === 'binary') return undefined
  try {
    return JSON.parse(input.text)
  } catch {
    return undefined
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const show = (input: WsInput): string =>
  input.kind === 'binary' ? `binary frame of ${input.bytes.length} bytes` : `text frame ${JSON.stringify(input.text.slice(0, 300))}`

type Acked = { topic: string; seq: number; id: string }

/** Checks the reply to one frame against what the contract says about that frame; returns the publish it acknowledged. */
function checkReply(input: WsInput, reply: Frame | undefined): Acked | undefined {
  const what = show(input)
  assert.ok(reply, `no reply to ${what}`)
  const sent = parsedText(input)
  const expectedRequestId = isRecord(sent) && typeof sent.request_id === 'string' ? sent.request_id : undefined
  assert.equal(reply.request_id, expectedRequestId, `request_id not echoed for ${what}`)
  if (reply.type === 'error') {
    assert.notEqual(reply.error?.code, 'INTERNAL', `INTERNAL error for ${what}: ${reply.error?.message}`)
    if (!isRecord(sent)) assert.equal(reply.error?.code, 'BAD_REQUEST', `not BAD_REQUEST for ${what}`)
    return undefined
  }
  assert.ok(isRecord(sent), `${reply.type} for ${what}, which is not a JSON object`)
  if (reply.type === 'pong') {
    assert.equal(sent.type, 'ping', `pong for ${what}`)
    return undefined
  }
  assert.equal(reply.type, 'ack', `unexpected ${reply.type} for ${what}`)
  assert.ok(['subscribe', 'unsubscribe', 'publish'].includes(String(sent.type)), `ack for ${what}`)
  assert.equal(reply.topic, sent.topic, `ack names another topic for ${what}`)
  if (sent.type !== 'publish') return undefined
  const message = sent.message
  if (isRecord(message) && typeof message.id === 'string') assert.equal(reply.message_id, message.id)
  assert.ok(reply.message_id !== undefined && reply.seq !== undefined, `publish ack without message_id and seq for ${what}`)
  return { topic: String(sent.topic), seq: reply.seq, id: reply.message_id }
}

/** A subscriber on every live topic that must see each acknowledged event once, in order. */
async function watchAllTopics(t: TestContext, server: TestServer, topics: readonly string[]): Promise<{ client: Client; ledger: SeqLedger }> {
  const client = await connect(t, server.wsUrl)
  const ledger = new SeqLedger()
  for (const topic of topics) {
    client.send({ type: 'subscribe', topic })
    assert.equal((await client.next()).type, 'ack')
    ledger.expect(topic, 0)
  }
  return { client, ledger }
}

async function confirmDelivered(side: { client: Client; ledger: SeqLedger }, acked: Acked[], barrier: string): Promise<void> {
  for (const frame of await framesUntilPong(side.client, barrier)) {
    assert.equal(frame.type, 'event', `side subscriber got ${frame.type}`)
    side.ledger.record(frame)
  }
  for (const { topic, seq, id } of acked) side.ledger.assertReceived(topic, seq, id)
}

test('a payload nested too deeply to encode is refused without burning a seq', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'deep')
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'subscribe', topic: 'deep' })
  assert.equal((await client.next()).type, 'ack')
  const nested = '['.repeat(50_000) + ']'.repeat(50_000)
  client.send(`{"type":"publish","topic":"deep","request_id":"deep-1","message":{"payload":${nested}}}`)
  const refused = await client.next()
  assert.equal(refused.type, 'error')
  assert.equal(refused.request_id, 'deep-1')
  assert.equal(refused.error?.code, 'BAD_REQUEST')
  client.send({ type: 'publish', topic: 'deep', message: { payload: 1 } })
  const event = await client.next()
  assert.equal(event.type, 'event')
  assert.equal(event.seq, 1, 'the refused publish took a seq, leaving a gap')
  assert.deepEqual(server.logs.filter((line) => line.includes('"level":"error"')), [])
})

test(`fuzzed WebSocket frames (${WS_CASES} cases) get well-formed replies, the connection stays open and nothing is lost`, { timeout: Math.max(20_000, WS_CASES * 10) }, async (t) => {
  const server = await startServer(t, { maxBufferedBytes: ROOMY_QUEUE })
  for (const topic of LIVE_TOPICS) await createTopic(server.url, topic)
  const side = await watchAllTopics(t, server, LIVE_TOPICS)
  const fuzzer = await connect(t, server.wsUrl)
  let closedWith: string | undefined
  void fuzzer.closed.then(({ code, reason }) => { closedWith = `${code} ${reason}` })
  const prototypes = snapshotPrototypes()
  let batch = 0

  await fc.assert(
    fc.asyncProperty(fc.array(wsInput, { minLength: FRAMES_PER_BATCH, maxLength: FRAMES_PER_BATCH }), async (inputs) => {
      const barrier = `fuzz-${++batch}`
      for (const input of inputs) {
        if (input.kind === 'binary') fuzzer.ws.send(input.bytes, { binary: true })
        else fuzzer.ws.send(input.text)
      }
      const replies = (await framesUntilPong(fuzzer, barrier)).filter((frame) => frame.type !== 'event')
      assert.equal(closedWith, undefined, 'the server closed the fuzzed connection')
      assert.equal(replies.length, inputs.length, 'not exactly one reply per frame')
      const acked = inputs.map((input, i) => checkReply(input, replies[i])).filter((a): a is Acked => a !== undefined)
      await confirmDelivered(side, acked, `side-${barrier}`)
      assertNoPollution(prototypes)
    }),
    { numRuns: Math.ceil(WS_CASES / FRAMES_PER_BATCH), endOnFailure: true, includeErrorInReport: true },
  )
  t.diagnostic(`ws cases: ${batch * FRAMES_PER_BATCH} frames; side subscriber checked ${side.ledger.checked} events, 0 lost`)
  assert.deepEqual(server.logs.filter((line) => line.includes('"level":"error"')), [])
})

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
  await confirmDelivered(side, acked, 'side-http')
  const health = await send(agent, base, { method: 'GET', path: '/health', headers: {}, body: undefined })
  assert.equal(health.status, 200)
  t.diagnostic(`http cases: ${cases} requests; side subscriber checked ${side.ledger.checked} events, 0 lost`)
  assert.deepEqual(server.logs.filter((line) => line.includes('"level":"error"')), [])
})

test('a text frame that is not UTF-8 closes the connection with 1007 and nobody else notices', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'utf8')
  const side = await watchAllTopics(t, server, ['utf8'])
  const client = await connect(t, server.wsUrl)
  // RFC 6455 requires failing the connection on invalid UTF-8 in a text frame; ws does that before we see the frame.
  client.ws.send(Buffer.from([0xc3, 0x28, 0xff]), { binary: false })
  assert.equal((await within(client.closed, 'the close after invalid UTF-8')).code, 1007)
  const publisher = await connect(t, server.wsUrl)
  publisher.send({ type: 'publish', topic: 'utf8', message: { payload: 'still here' } })
  const ack = await publisher.next()
  await confirmDelivered(side, [{ topic: 'utf8', seq: ack.seq ?? 0, id: ack.message_id ?? '' }], 'side-utf8')
})

test('a frame over the payload limit closes only its own connection, with 1009', async (t) => {
  const server = await startServer(t, { maxPayloadBytes: 4_096 })
  await createTopic(server.url, 'big')
  const side = await watchAllTopics(t, server, ['big'])
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 4_097, max: 64_000 }), fc.boolean(), async (size, binary) => {
      const client = await connect(t, server.wsUrl)
      client.ws.send(Buffer.alloc(size, 0x20), { binary })
      assert.equal((await within(client.closed, 'the 1009 close')).code, 1009)
    }),
    { numRuns: 20 },
  )
  const publisher = await connect(t, server.wsUrl)
  publisher.send({ type: 'publish', topic: 'big', message: { payload: 'after' } })
  const ack = await publisher.next()
  await confirmDelivered(side, [{ topic: 'big', seq: ack.seq ?? 0, id: ack.message_id ?? '' }], 'side-big')
})
