import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import test from 'node:test'
import { errorLines, startServer, within } from './helpers.js'
import { eventually, health, healthyPair } from './fault-support.js'
import { maskedTextFrame, openRawWebSocket, readUntil } from './raw-socket.js'

for (const [how, vanish] of [
  ['closes its socket', (socket: Socket) => socket.end()],
  ['resets the TCP connection', (socket: Socket) => socket.resetAndDestroy()],
] as const) {
  test(`a subscriber that ${how} mid-frame is forgotten and nobody else is affected`, async (t) => {
    const server = await startServer(t)
    const pair = await healthyPair(t, server, 'busy')
    for (let round = 0; round < 20; round++) {
      const socket = await openRawWebSocket(t, server.address.port)
      const gone = new Promise((resolve) => socket.once('close', resolve))
      socket.write(maskedTextFrame(JSON.stringify({ type: 'subscribe', topic: 'busy' })))
      await readUntil(socket, '"type":"ack"')
      // The header promises 100 payload bytes; only the mask and five bytes follow.
      socket.write(Buffer.from([0x81, 0x80 | 100, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
      await pair.roundTrip()
      vanish(socket)
      await within(gone, 'the vanished socket to close')
      await pair.roundTrip()
    }
    await eventually(async () => (await health(server.url)).connections === 2, 'the server to forget the vanished clients')
    assert.equal((await health(server.url)).subscribers, 1, 'a vanished client kept its subscription')
    await pair.roundTrip()
    assert.deepEqual(errorLines(server.logs), [])
  })
}

test('a client that never answers pings is terminated by the heartbeat and its subscriptions freed', async (t) => {
  const server = await startServer(t, { heartbeatIntervalMs: 100 })
  const pair = await healthyPair(t, server, 'busy')
  // A raw socket never answers the server's pings, unlike the ws client.
  const mute = await openRawWebSocket(t, server.address.port)
  mute.write(maskedTextFrame(JSON.stringify({ type: 'subscribe', topic: 'busy' })))
  await within(new Promise((resolve) => mute.once('close', resolve)), 'the heartbeat to terminate the mute client')
  await eventually(async () => (await health(server.url)).subscribers === 1, 'the mute client to lose its subscription')
  await pair.roundTrip()
  assert.equal((await health(server.url)).connections, 2, 'a client that answers pings was dropped')
})
