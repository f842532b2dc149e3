import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { Broker } from '../src/broker/broker.js'
import { createLogger } from '../src/log.js'
import { Gateway } from '../src/ws/gateway.js'
import { connect, createTopic, request, startServer, subscribedClient, watchLog } from './helpers.js'
import { openRawWebSocket, openSocket, parseResponse, readUntilClosed, upgradeRequest } from './raw-socket.js'
import { assertProblemDocument } from './wire-checks.js'
import { openAccess } from './support/access.js'

test('an unexpected error while handling a frame answers INTERNAL, is logged with a stack, and harms no one else', async (t) => {
  let failing = false
  // A clock that breaks on demand stands in for any bug inside the handler.
  const clock = (): number => {
    if (failing) throw new Error('clock failure')
    return Date.now()
  }
  const server = await startServer(t, { clock })
  await createTopic(server.url, 'orders')
  const victim = await connect(t, server.wsUrl)
  const bystander = await subscribedClient(t, server.wsUrl, 'orders')

  failing = true
  victim.send({ type: 'publish', topic: 'orders', request_id: 'boom', message: { payload: 1 } })
  const error = await victim.next()
  failing = false
  assert.equal(error.type, 'error')
  assert.equal(error.request_id, 'boom')
  assert.equal(error.error?.code, 'INTERNAL')

  const logged = await server.waitForLog('message handling failed')
  assert.equal(logged.level, 'error')
  assert.match(String((logged.error as { stack?: string }).stack), /clock failure\n\s+at /)

  victim.send({ type: 'publish', topic: 'orders', message: { payload: 2 } })
  assert.equal((await victim.next()).seq, 1, 'the failed publish took no seq')
  assert.equal((await bystander.next()).seq, 1)
  assert.equal((await request(server.url, 'GET', '/health')).status, 200)
})

test('an unexpected error in a REST handler answers 500 problem details and is logged', async (t) => {
  let failing = false
  const server = await startServer(t, {
    clock: () => {
      if (failing) throw new Error('clock failure')
      return Date.now()
    },
  })
  await createTopic(server.url, 'orders')
  failing = true
  const res = await request(server.url, 'POST', '/topics/orders/messages?api_key=key-in-the-query', { payload: 1 })
  failing = false
  assert.equal(res.status, 500)
  assert.equal((res.body as { code: string }).code, 'INTERNAL')
  const logged = await server.waitForLog('request failed')
  assert.equal(logged.level, 'error')
  assert.equal(logged.path, '/topics/orders/messages')
  assert.ok(!server.logs.some((line) => line.includes('key-in-the-query')), 'a key in the query was logged')
  assert.equal((await request(server.url, 'POST', '/topics/orders/messages', { payload: 2 })).status, 200)
})

test('an unexpected error while handling an upgrade answers 500 problem details, is logged, and upgrades go on', async (t) => {
  let failing = true
  const log = watchLog()
  const gateway = new Gateway({
    broker: new Broker({ maxHistoryPerTopic: 0, maxTopics: 1, maxSubscriptionsPerConnection: 1 }),
    log: createLogger('debug', log.push),
    access: openAccess(),
    maxPayloadBytes: 1024,
    maxBufferedBytes: 1024,
    heartbeatIntervalMs: 60_000,
    // A check that breaks on demand stands in for any bug on the upgrade path.
    isShuttingDown: () => {
      if (failing) throw new Error('upgrade failure')
      return false
    },
  })
  const server = createServer().on('upgrade', gateway.handleUpgrade)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    gateway.stop()
    gateway.terminateAll()
    server.close()
  })
  const { port } = server.address() as AddressInfo

  const socket = await openSocket(t, port)
  socket.write(upgradeRequest(port, '/ws?api_key=key-in-the-query'))
  const reply = parseResponse(await readUntilClosed(socket, 'the answer to the failing upgrade'))
  assertProblemDocument(500, reply.headers.get('content-type'), reply.body)
  const logged = await log.waitFor('upgrade failed')
  assert.equal(logged.level, 'error')
  assert.equal(logged.path, '/ws')
  assert.match(String((logged.error as { stack?: string }).stack), /upgrade failure\n\s+at /)
  assert.ok(!log.lines.some((line) => line.includes('key-in-the-query')), 'the API key was logged')

  failing = false
  await openRawWebSocket(t, port)
  assert.equal(gateway.connectionCount, 1)
})
