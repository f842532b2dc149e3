import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import { Broker } from '../../src/broker/broker.js'
import { createLogger } from '../../src/log.js'
import { FlushBatch } from '../../src/ws/flush-batch.js'
import { Connection } from '../../src/ws/connection.js'
import { OPEN_AUTH, openAccess } from './access.js'

/** What reached the wire, in order: written bytes and the close frame ws would send. */
export type WireEvent = { write: string } | { close: number }

/** The parts of a ws WebSocket and its socket that a Connection uses, recording what they are asked to send. */
export function fakeClient(): { ws: WebSocket; socket: Duplex; wire: WireEvent[] } {
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

/** A Connection over a fake client, on an open server unless `auth` and `access` say otherwise. */
export function connectionFor(client: { ws: WebSocket; socket: Duplex }, auth = OPEN_AUTH, access = openAccess()): Connection {
  const broker = new Broker({ maxHistoryPerTopic: 0, maxTopics: 10, maxSubscriptionsPerConnection: 10 })
  return new Connection(client.ws, client.socket, {
    broker,
    log: createLogger('error', () => {}),
    maxBufferedBytes: 1_048_576,
    batch: new FlushBatch(),
    counters: { connectionsAccepted: 0, connectionsRefused: 0, slowConsumers: 0, heartbeatTerminations: 0, badRequests: 0, internalErrors: 0 },
    access,
    onClose: () => {},
  }, auth)
}
