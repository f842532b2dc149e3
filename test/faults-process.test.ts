import assert from 'node:assert/strict'
import test, { type TestContext } from 'node:test'
import { spawnServer } from './child.js'
import { connect, createTopic, errorLines, subscribedClient, within, type Client, type Frame } from './helpers.js'
import { healthyPair } from './fault-support.js'
import { openSocket } from './raw-socket.js'
import { SeqLedger } from './seq-ledger.js'

test('a burst of connections past the open-file limit is refused, logged, and existing clients keep being served', { timeout: 60_000 }, async (t) => {
  const server = await spawnServer(t, { openFiles: 256 })
  const pair = await healthyPair(t, server, 'busy')
  const sockets = await Promise.all(Array.from({ length: 400 }, () => openSocket(t, server.port)))
  let shed = 0
  const firstShed = new Promise((resolve) => {
    for (const socket of sockets) socket.once('close', () => resolve(++shed))
  })
  // The kernel completes every handshake; the server refuses what would pass its file limit.
  await within(firstShed, 'the server to refuse a connection past its file limit', 15_000)
  const refusal = await server.waitForLog('connection refused: open-file limit reached', 15_000)
  assert.equal(refusal.level, 'warn')
  assert.equal(refusal.max_connections, 256 - 32)
  for (let i = 0; i < 5; i++) await pair.roundTrip()
  const shedWhileFull = shed
  for (const socket of sockets) socket.destroy()
  const late = await within(connectWhenPossible(t, server.wsUrl), 'a new client once the burst is gone', 15_000)
  late.send({ type: 'ping', request_id: 'after-burst' })
  assert.equal((await late.next()).type, 'pong')
  await pair.roundTrip()
  assert.equal(server.child.exitCode, null, 'the server died')
  assert.deepEqual(errorLines(server.stdout), [])
  t.diagnostic(`burst of 400 sockets at a 256-file limit: ${shedWhileFull} shed by the server, ${pair.ledger.checked} events delivered to existing clients, 0 lost`)
})

/** The server closes burst sockets as it sees them; a new client may need a retry until the file table has room again. */
async function connectWhenPossible(t: TestContext, wsUrl: string): Promise<Client> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect(t, wsUrl)
    } catch (error) {
      if (attempt >= 50) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/** The signal lands after this many acks; the publisher keeps sending until its connection closes. */
const SIGNAL_AFTER_ACKS = 1_000
const MAX_PUBLISHES = 50_000
/**
 * Publishes in flight at most. Without a bound the publisher outruns a subscriber that
 * shares its process and CPU, and the server rightly drops that subscriber as slow.
 */
const WINDOW = 500

test('SIGTERM during a burst of publishes loses no acknowledged event and exits 0', { timeout: 60_000 }, async (t) => {
  const server = await spawnServer(t)
  await createTopic(server.url, 'burst')
  const subscriber = await subscribedClient(t, server.wsUrl, 'burst')
  const publisher = await connect(t, server.wsUrl)
  const events = new SeqLedger()
  events.expect('burst', 0)
  const received: Frame[] = []
  const subscriberClosed = readFramesUntilClosed(subscriber, (frame) => received.push(frame))
  let reachedSignalPoint: () => void = () => {}
  const signalPoint = new Promise<void>((resolve) => { reachedSignalPoint = resolve })
  const replies: Frame[] = []
  let sent = 0
  const topUp = (): void => {
    if (publisher.ws.readyState !== publisher.ws.OPEN) return
    for (; sent < MAX_PUBLISHES && sent - replies.length < WINDOW; sent++) {
      publisher.send({ type: 'publish', topic: 'burst', message: { payload: sent } })
    }
  }
  const publisherClosed = readFramesUntilClosed(publisher, (frame) => {
    replies.push(frame)
    if (replies.length === SIGNAL_AFTER_ACKS) reachedSignalPoint()
    topUp()
  })
  topUp()
  await within(signalPoint, `${SIGNAL_AFTER_ACKS} replies to publishes`, 15_000)
  server.child.kill('SIGTERM')
  const [subscriberClose, publisherClose] = await Promise.all([subscriberClosed, publisherClosed])
  assert.deepEqual(subscriberClose, { code: 1001, reason: 'Server is shutting down' })
  assert.deepEqual(publisherClose, { code: 1001, reason: 'Server is shutting down' })
  assert.deepEqual(await within(server.exited, 'the server to exit', 15_000), { code: 0, signal: null })
  for (const frame of received) events.record(frame)
  for (const reply of replies) {
    assert.equal(reply.type, 'ack', `publish failed: ${JSON.stringify(reply)}`)
    events.assertReceived('burst', reply.seq ?? 0, reply.message_id ?? '')
  }
  t.diagnostic(`SIGTERM mid-burst: ${sent} publishes sent, ${replies.length} acknowledged, ${events.checked} events delivered in order, 0 lost`)
})

/** Hands every frame to `onFrame` until the server's close arrives: ws emits all messages before 'close'. */
function readFramesUntilClosed(client: Client, onFrame: (frame: Frame) => void): Promise<{ code: number; reason: string }> {
  client.ws.on('message', (data) => onFrame(JSON.parse(String(data)) as Frame))
  return within(client.closed, 'the server to close the connection', 15_000)
}
