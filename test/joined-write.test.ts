import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, connect, type Socket } from 'node:net'
import { test, type TestContext } from 'node:test'
import { writeJoined } from '../src/ws/joined-write.js'
import { within } from './helpers.js'

/** A connected pair over 127.0.0.1: `server` is written to, `client` reads. */
async function socketPair(t: TestContext): Promise<{ server: Socket; client: Socket }> {
  const listener = createServer()
  listener.listen(0, '127.0.0.1')
  await within(once(listener, 'listening'), 'listening')
  const address = listener.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const accepted = once(listener, 'connection') as Promise<[Socket]>
  const client = connect(address.port, '127.0.0.1')
  const [server] = await within(accepted, 'the connection')
  t.after(() => {
    client.destroy()
    server.destroy()
    listener.close()
  })
  return { server, client }
}

/** Everything `client` receives until it has `bytes`. */
function receive(client: Socket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let received = 0
  return within(new Promise((resolve) => {
    client.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      received += chunk.length
      if (received >= bytes) resolve(Buffer.concat(chunks))
    })
  }), `${bytes} bytes`)
}

/** Batch `n`: a few frames of distinct bytes, so a mix-up between batches shows. */
function batch(n: number, frames = 5): Buffer[] {
  return Array.from({ length: frames }, (_, i) => Buffer.from(`<${n}.${i}:${'x'.repeat((n * 7 + i * 13) % 300)}>`))
}

const total = (frames: readonly Buffer[]): number => frames.reduce((sum, frame) => sum + frame.length, 0)

test('joined writes arrive whole and in order', async (t) => {
  const { server, client } = await socketPair(t)
  const batches = Array.from({ length: 2_000 }, (_, n) => batch(n, 1 + (n % 6)))
  const expected = Buffer.concat(batches.flat())
  const received = receive(client, expected.length)
  for (const frames of batches) writeJoined(server, frames, total(frames))
  assert.ok((await received).equals(expected))
})

test('a socket that keeps part of a write keeps its bytes while other sockets write', async (t) => {
  const stalled = await socketPair(t)
  const busy = await socketPair(t)
  stalled.client.pause()
  const toStalled: Buffer[] = []
  const toBusy: Buffer[] = []
  // Fill the stalled socket's kernel buffers until its stream queues a write.
  for (let n = 0; n < 100_000 && stalled.server.writableLength === 0; n++) {
    const frames = batch(n, 40)
    toStalled.push(...frames)
    writeJoined(stalled.server, frames, total(frames))
  }
  assert.ok(stalled.server.writableLength > 0, 'the stalled socket never queued a write')
  // Every write to the other socket now reuses the shared scratch.
  for (let n = 0; n < 500; n++) {
    const frames = batch(1_000_000 + n, 40)
    toBusy.push(...frames)
    writeJoined(busy.server, frames, total(frames))
  }
  const expectedBusy = Buffer.concat(toBusy)
  assert.ok((await receive(busy.client, expectedBusy.length)).equals(expectedBusy))
  const expectedStalled = Buffer.concat(toStalled)
  const stalledBytes = receive(stalled.client, expectedStalled.length)
  stalled.client.resume()
  assert.ok((await stalledBytes).equals(expectedStalled), 'the stalled socket received other bytes than were written')
})
