import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { connect, request, startServer, within } from './helpers.js'

test('a client that does not answer pings is terminated after one missed interval', async (t) => {
  const server = await startServer(t, { heartbeatIntervalMs: 50 })
  const silent = await connect(t, server.wsUrl, { autoPong: false })
  const { code } = await within(silent.closed, 'the server to terminate the silent client')
  // Terminated, not closed: no close frame, so the client sees an abnormal closure.
  assert.equal(code, 1006)
  const health = (await request(server.url, 'GET', '/health')).body as { connections: number }
  assert.equal(health.connections, 0)
})

test('a client that answers pings survives many intervals', async (t) => {
  const server = await startServer(t, { heartbeatIntervalMs: 50 })
  const client = await connect(t, server.wsUrl)
  const silent = await connect(t, server.wsUrl, { autoPong: false })
  let pings = 0
  const fivePings = new Promise<void>((resolve) => {
    client.ws.on('ping', () => { if (++pings === 5) resolve() })
  })
  await within(fivePings, 'five heartbeat pings')
  await within(silent.closed, 'the silent client to be dropped')
  assert.equal(client.ws.readyState, WebSocket.OPEN)
  assert.deepEqual(await client.drain(), [])
})
