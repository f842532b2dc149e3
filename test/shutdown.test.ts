import assert from 'node:assert/strict'
import { after, before, test, type TestContext } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { connect, createTopic, request, startServer, subscribedClient, within, type Client } from './helpers.js'
import { buildProject, spawnServer, type ServerProcess } from './child.js'
import { maskedTextFrame, openRawWebSocket, openSocket, parseResponse, readUntilClosed, upgradeRequest } from './raw-socket.js'

const REASON = 'Server is shutting down'
/** Slack for process exit on a busy machine, on top of the configured timeout. */
const MARGIN_MS = 2_000

/** Keeps one publish in flight at a time until the connection closes (bounded by `limit`). */
function publishContinuously(client: Client, limit = 100_000): { acked(): number } {
  let acked = 0
  const publishNext = (): void => client.send({ type: 'publish', topic: 'live', message: { payload: acked } })
  client.ws.on('message', () => {
    if (++acked < limit && client.ws.readyState === client.ws.OPEN) publishNext()
  })
  publishNext()
  return { acked: () => acked }
}

let build: Awaited<ReturnType<typeof buildProject>>
before(async () => { build = await buildProject() })
after(() => build?.remove())

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} closes every client with 1001 and exits 0 as soon as they are gone`, async (t) => {
    // A timeout far beyond the wait below: a server that sat it out would fail the test.
    const server = await spawnServer(t, { entry: [build.entry], env: { SHUTDOWN_TIMEOUT_MS: '60000' } })
    await createTopic(server.url, 'live')
    const subscribers = await Promise.all([subscribedClient(t, server.wsUrl, 'live'), subscribedClient(t, server.wsUrl, 'live')])
    const publisher = await connect(t, server.wsUrl)
    const stream = publishContinuously(publisher)
    await subscribers[0]?.next()

    server.child.kill(signal)
    for (const client of [...subscribers, publisher]) {
      assert.deepEqual(await within(client.closed, 'the 1001 close'), { code: 1001, reason: REASON })
    }
    assert.deepEqual(await within(server.exited, 'the process to exit'), { code: 0, signal: null })
    assert.ok(!server.stdout.some((line) => line.includes('shutdown timeout')), 'waited for the shutdown timeout')
    assert.ok(stream.acked() > 0, 'the publisher was mid-stream')
  })
}

test('a client that ignores the close frame does not hold the exit past SHUTDOWN_TIMEOUT_MS, and no one new gets in', async (t) => {
  const server = await spawnServer(t, { entry: [build.entry], env: { SHUTDOWN_TIMEOUT_MS: '3000' } })
  const stubborn = await openRawWebSocket(t, server.port)
  stubborn.pause()
  const signalledAt = performance.now()
  server.child.kill('SIGTERM')
  await server.waitForLog('shutting down')
  // While it drains, the port still answers health checks with 503.
  const health = await request(server.url, 'GET', '/health')
  assert.equal(health.status, 503)
  assert.equal((health.body as { status: string }).status, 'shutting_down')
  assert.equal((await request(server.url, 'GET', '/topics')).status, 503)
  const latecomer = await openSocket(t, server.port)
  latecomer.write(upgradeRequest(server.port))
  assert.equal(parseResponse(await readUntilClosed(latecomer, 'the answer to an upgrade during shutdown')).status, 503)

  assert.deepEqual(await within(server.exited, 'the process to exit'), { code: 0, signal: null })
  const elapsed = performance.now() - signalledAt
  assert.ok(elapsed >= 3_000, `exited after ${elapsed} ms, before the timeout`)
  assert.ok(elapsed < 3_000 + MARGIN_MS, `exited after ${elapsed} ms`)
  assert.ok(server.stdout.some((line) => line.includes('shutdown timeout')))
})

/** A server held in its graceful shutdown by a client that never answers the close, after `first`. */
async function drainingServer(t: TestContext, first: NodeJS.Signals, shutdownTimeoutMs = 60_000): Promise<ServerProcess> {
  const server = await spawnServer(t, { entry: [build.entry], env: { SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) } })
  const stubborn = await openRawWebSocket(t, server.port)
  stubborn.write(maskedTextFrame('{"type":"ping"}'))
  stubborn.pause()
  server.child.kill(first)
  await server.waitForLog('shutting down')
  return server
}

test('a second signal exits at once', async (t) => {
  const server = await drainingServer(t, 'SIGINT')
  server.child.kill('SIGTERM')
  assert.equal((await within(server.exited, 'the process to exit on the second signal')).code, 1)
})

test('the same signal again 300 ms later exits at once, as a person pressing Ctrl-C twice means', async (t) => {
  const server = await drainingServer(t, 'SIGINT')
  // What is tested is the passing of time: a repeat within the window counts as the first signal.
  await delay(300)
  server.child.kill('SIGINT')
  assert.equal((await within(server.exited, 'the process to exit on the repeated signal')).code, 1)
  assert.ok(server.stdout.some((line) => line.includes('second signal')))
})

test('the same signal twice in quick succession counts once, as when a terminal and npm both pass on Ctrl-C', async (t) => {
  // Still draining when the repeat comes, so a repeat taken for a second signal would exit 1 at once.
  const server = await drainingServer(t, 'SIGINT', 1_500)
  server.child.kill('SIGINT')
  assert.deepEqual(await within(server.exited, 'the process to exit at the shutdown timeout'), { code: 0, signal: null })
  assert.ok(!server.stdout.some((line) => line.includes('second signal')))
})

test('close() from the library shuts down gracefully and leaves the process running', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'live')
  const client = await subscribedClient(t, server.wsUrl, 'live')
  await server.close()
  assert.deepEqual(await within(client.closed, 'the 1001 close'), { code: 1001, reason: REASON })
  await assert.rejects(request(server.url, 'GET', '/health'), 'the port is closed once close() resolves')
  assert.ok(server.logs.some((line) => line.includes('"msg":"stopped"')))
})
