import { connect } from 'node:net'
import { nowMicros } from '../lib/dialect.js'
import { inBatches } from '../lib/messages.js'
import { CHUNK_BYTES, cpuMs, report, type ReaderCommand } from './messages.js'

/**
 * The floor's client: holds plain TCP sockets and reports when every one of
 * them has read the chunk. Reads go into one shared buffer through `onread`,
 * as the benchmark's WebSocket client does, so a read makes no Buffer.
 */

const CONNECTS_IN_FLIGHT = 100
const readBuffer = Buffer.alloc(64 * 1024)

let sockets = 0
let complete = 0
let cpuAtFirstRead: number | undefined

function open(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0
    const onRead = (bytes: number): boolean => {
      cpuAtFirstRead ??= cpuMs()
      received += bytes
      if (received === CHUNK_BYTES && ++complete === sockets) {
        report({ type: 'read', lastAtMicros: nowMicros(), cpuMs: cpuMs() - cpuAtFirstRead })
      }
      return true
    }
    const socket = connect({ port, host: '127.0.0.1', onread: { buffer: readBuffer, callback: onRead } })
    socket.once('connect', () => resolve())
    socket.on('error', (error) => {
      reject(error)
      report({ type: 'failed', reason: `socket error: ${error.message}` })
    })
  })
}

process.on('message', (command: ReaderCommand) => {
  sockets = command.sockets
  inBatches(sockets, CONNECTS_IN_FLIGHT, () => open(command.port)).then(
    () => report({ type: 'connected' }),
    (error: unknown) => report({ type: 'failed', reason: `could not connect: ${error instanceof Error ? error.message : String(error)}` }),
  )
})

process.on('disconnect', () => process.exit(0))
