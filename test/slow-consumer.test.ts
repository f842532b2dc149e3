import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { test, type TestContext } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { connect, createTopic, request, startServer, subscribedClient, within, type Client, type TestServer } from './helpers.js'
import { collectFrames, maskedTextFrame, openRawWebSocket } from './raw-socket.js'

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

/**
 * Heap plus Buffer memory after full collections: what the process holds on
 * to. Buffer memory is released by finalizers after a collection, so let the
 * event loop run them and collect again before reading.
 */
async function retainedBytes(): Promise<number> {
  for (let pass = 0; pass < 3; pass++) {
    collectGarbage()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

const PAYLOAD = 'x'.repeat(16 * 1024)

/**
 * Events published but not yet read by the healthy subscriber. The server,
 * the healthy client and the publisher share this event loop, so a larger
 * burst could outgrow the kernel's loopback buffers (small on some hosts)
 * before the healthy client reads, and the server would rightly drop it too.
 * Eight 16 KiB events stay well under the 256 KiB limit.
 */
const IN_FLIGHT = 8

type Firehose = {
  server: TestServer
  healthy: Client
  stalled: Socket
  /** Publishes `count` 16 KiB events and waits until the healthy subscriber has them all. */
  publish(count: number): Promise<void>
  /** Every seq the healthy subscriber received, in arrival order. */
  received: number[]
  sent(): number
}

/** One topic with a healthy subscriber, a subscriber that has stopped reading, and a publisher. */
async function firehose(t: TestContext): Promise<Firehose> {
  const server = await startServer(t, { maxBufferedBytes: 256 * 1024, maxHistoryPerTopic: 4 })
  await createTopic(server.url, 'firehose')
  const healthy = await subscribedClient(t, server.wsUrl, 'firehose')
  const stalled = await openRawWebSocket(t, server.address.port)
  stalled.write(maskedTextFrame('{"type":"subscribe","topic":"firehose"}'))
  await within(new Promise<void>((resolve) => stalled.once('data', () => resolve())), 'the subscribe ack')
  stalled.pause()
  const publisher = await connect(t, server.wsUrl)
  const received: number[] = []
  let sent = 0
  const publish = async (count: number): Promise<void> => {
    const target = sent + count
    while (received.length < target) {
      for (; sent < target && sent - received.length < IN_FLIGHT; sent++) {
        publisher.send({ type: 'publish', topic: 'firehose', message: { payload: PAYLOAD } })
      }
      received.push((await healthy.next()).seq ?? -1)
    }
    await publisher.drain()
  }
  return { server, healthy, stalled, publish, received, sent: () => sent }
}

/** Publishes until the server gives up on the stalled socket (loopback buffers hold a few MB first). */
async function publishUntilDropped(f: Firehose): Promise<void> {
  for (let round = 0; round < 60 && !f.server.logs.some((line) => line.includes('slow consumer')); round++) await f.publish(50)
}

test('a subscriber that stops reading is dropped while a healthy one receives every event gap-free', async (t) => {
  const f = await firehose(t)
  await publishUntilDropped(f)
  // Asked for afterwards, so its wait does not run while publishing; a line already logged is found.
  const warning = await f.server.waitForLog('slow consumer disconnected')
  assert.equal(warning.level, 'warn')
  assert.equal(typeof warning.connection, 'string')
  assert.deepEqual(warning.topics, ['firehose'])
  await f.publish(100)
  assert.deepEqual(f.received, Array.from({ length: f.sent() }, (_, i) => i + 1))
})

test('a dropped slow consumer gets SLOW_CONSUMER, then close 1008, and is destroyed when it never answers', async (t) => {
  const f = await firehose(t)
  await publishUntilDropped(f)
  await f.server.waitForLog('slow consumer disconnected')
  const { frames, ended } = collectFrames(f.stalled)
  f.stalled.resume()
  // The server destroys the socket one second after its close frame goes unanswered.
  await within(ended, 'the server to destroy the socket', 3_000)
  const closeFrame = frames.at(-1)
  assert.equal(closeFrame?.opcode, 0x8)
  assert.equal(closeFrame?.payload.readUInt16BE(0), 1008)
  assert.equal(closeFrame?.payload.subarray(2).toString(), 'SLOW_CONSUMER')
  const error = JSON.parse(String(frames.at(-2)?.payload)) as { type: string; error: { code: string; message: string } }
  assert.equal(error.type, 'error')
  assert.equal(error.error.code, 'SLOW_CONSUMER')
  const events = frames.slice(0, -2).map((frame) => JSON.parse(String(frame.payload)) as { seq?: number })
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'what it did get was in order')
})

test('after a slow consumer is dropped, server memory does not grow with the publish count', async (t) => {
  const f = await firehose(t)
  await publishUntilDropped(f)
  await f.server.waitForLog('connection closed')
  const health = (await request(f.server.url, 'GET', '/health')).body as { connections: number; subscribers: number }
  assert.deepEqual([health.connections, health.subscribers], [2, 1], 'its connection and subscription are freed')
  await f.publish(50)
  // Memory is measured in this process, which also runs the clients: take the
  // smallest growth of three rounds, so one round's noise cannot fail the test
  // while a real leak (every round holding its events) still does.
  const growths: number[] = []
  for (let round = 0; round < 3; round++) {
    const before = await retainedBytes()
    await f.publish(300)
    growths.push((await retainedBytes()) - before)
  }
  // Had the server kept queueing for the stalled socket, each round would hold ~4.8 MB.
  const least = Math.min(...growths)
  assert.ok(least < 2 * 1024 * 1024, `retained memory grew by ${growths.join(', ')} bytes over rounds of 300 16 KiB events`)
})

test('one event larger than MAX_BUFFERED_BYTES still reaches a subscriber with an empty queue', async (t) => {
  const server = await startServer(t, { maxBufferedBytes: 64 * 1024 })
  await createTopic(server.url, 'big')
  const client = await subscribedClient(t, server.wsUrl, 'big')
  await request(server.url, 'POST', '/topics/big/messages', { payload: 'y'.repeat(200 * 1024) })
  const event = await client.next()
  assert.equal(event.type, 'event')
  assert.equal((event.message?.payload as string).length, 200 * 1024)
})
