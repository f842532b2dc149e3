import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { test } from 'node:test'
import type { WebSocket } from 'ws'
import { Broker } from '../src/broker/broker.js'
import { createLogger } from '../src/log.js'
import { FlushBatch } from '../src/ws/flush-batch.js'
import { Connection } from '../src/ws/connection.js'
import { OPEN_AUTH, openAccess } from './support/access.js'

/** What reached the wire, in order: written bytes and the close frame ws would send. */
type WireEvent = { write: string } | { close: number }

/** The parts of a ws WebSocket and its socket that a Connection uses, recording what they are asked to send. */
function fakeClient(): { ws: WebSocket; socket: Duplex; wire: WireEvent[] } {
  const wire: WireEvent[] = []
  const ws = Object.assign(new EventEmitter(), {
    OPEN: 1,
    readyState: 1,
    bufferedAmount: 0,
    close(code: number) {
      wire.push({ close: code })
      this.readyState = 2
    },
    terminate() {
      this.readyState = 3
    },
  })
  const socket = { writableLength: 0, write: (chunk: Buffer) => wire.push({ write: chunk.toString() }) }
  return { ws: ws as unknown as WebSocket, socket: socket as unknown as Duplex, wire }
}

function connectionFor(client: { ws: WebSocket; socket: Duplex }): Connection {
  const broker = new Broker({ maxHistoryPerTopic: 0, maxTopics: 10, maxSubscriptionsPerConnection: 10 })
  return new Connection(client.ws, client.socket, {
    broker,
    log: createLogger('error', () => {}),
    maxBufferedBytes: 1_048_576,
    batch: new FlushBatch(),
    counters: { connectionsAccepted: 0, slowConsumers: 0, heartbeatTerminations: 0, badRequests: 0, internalErrors: 0 },
    access: openAccess(),
    onClose: () => {},
  }, OPEN_AUTH)
}

test('frames held in a turn go out, joined, before a close made in that same turn', () => {
  const client = fakeClient()
  const connection = connectionFor(client)
  connection.send(Buffer.from('one'))
  connection.send(Buffer.from('two'))
  assert.deepEqual(client.wire, [], 'frames are held until the turn ends')
  connection.close(1001, 'shutting down')
  assert.deepEqual(client.wire, [{ write: 'onetwo' }, { close: 1001 }])
})

test('frames held when the connection is no longer open are dropped, never written after the close', async () => {
  const client = fakeClient()
  const connection = connectionFor(client)
  connection.send(Buffer.from('late'))
  client.ws.close(1000) // as ws does when the client closes first
  await new Promise<void>((resolve) => setImmediate(resolve))
  assert.deepEqual(client.wire, [{ close: 1000 }])
})
