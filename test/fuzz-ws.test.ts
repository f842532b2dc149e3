import assert from 'node:assert/strict'
import test from 'node:test'
import fc from 'fast-check'
import { connect, createTopic, errorLines, startServer, subscribedClient, within, type Frame } from './helpers.js'
import { FUZZ_RUNS, LIVE_TOPICS, wsInput, type WsInput } from './fuzz-inputs.js'
import { assertNoPollution, confirmDelivered, ROOMY_QUEUE, snapshotPrototypes, watchAllTopics, type Acked } from './side-watch.js'
import { parseServerFrame } from './wire-checks.js'

/** Frames sent before each ping barrier: enough to batch, few enough to read a failure. */
const FRAMES_PER_BATCH = 50
/** Most generated cases are WebSocket frames; fuzz-http takes the rest. */
const WS_CASES = Math.ceil(FUZZ_RUNS * 0.8)

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

test('a payload nested too deeply to encode is refused without burning a seq', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'deep')
  const client = await subscribedClient(t, server.wsUrl, 'deep')
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
  assert.deepEqual(errorLines(server.logs), [])
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
      batch++
      for (const input of inputs) {
        if (input.kind === 'binary') fuzzer.ws.send(input.bytes, { binary: true })
        else fuzzer.ws.send(input.text)
      }
      const replies = (await fuzzer.drain(parseServerFrame)).filter((frame) => frame.type !== 'event')
      assert.equal(closedWith, undefined, 'the server closed the fuzzed connection')
      assert.equal(replies.length, inputs.length, 'not exactly one reply per frame')
      const acked = inputs.map((input, i) => checkReply(input, replies[i])).filter((a): a is Acked => a !== undefined)
      await confirmDelivered(side, acked)
      assertNoPollution(prototypes)
    }),
    { numRuns: Math.ceil(WS_CASES / FRAMES_PER_BATCH), endOnFailure: true, includeErrorInReport: true },
  )
  t.diagnostic(`ws cases: ${batch * FRAMES_PER_BATCH} frames; side subscriber checked ${side.ledger.checked} events, 0 lost`)
  // The generator makes well-formed publishes too: none acknowledged would make "nothing lost" say nothing.
  assert.ok(side.ledger.checked > 0, 'no fuzzed publish was acknowledged and delivered')
  assert.deepEqual(errorLines(server.logs), [])
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
  await confirmDelivered(side, [{ topic: 'utf8', seq: ack.seq ?? 0, id: ack.message_id ?? '' }])
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
  await confirmDelivered(side, [{ topic: 'big', seq: ack.seq ?? 0, id: ack.message_id ?? '' }])
})
