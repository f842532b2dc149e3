import { createServer, type Socket } from 'node:net'
import { nowMicros } from '../lib/dialect.js'
import { CHUNK_BYTES, cpuMs, report, type WriterCommand } from './messages.js'

/**
 * The floor's server: plain TCP, no WebSocket, no broker. It accepts the
 * readers' sockets, then writes one chunk to each in a plain loop, which is
 * the least any server must do to reach every socket once.
 */

const sockets: Socket[] = []
const chunk = Buffer.alloc(CHUNK_BYTES, 'x')
let expected = 0

const server = createServer((socket) => {
  // As `ws` does for every WebSocket: small frames go out at once.
  socket.setNoDelay(true)
  socket.on('error', (error) => report({ type: 'failed', reason: `socket error: ${error.message}` }))
  sockets.push(socket)
  if (sockets.length === expected) report({ type: 'accepted' })
})
server.on('error', (error) => report({ type: 'failed', reason: error.message }))

function writeToAll(): void {
  const cpuBefore = cpuMs()
  const startedAtMicros = nowMicros()
  for (const socket of sockets) socket.write(chunk)
  const loopMs = (nowMicros() - startedAtMicros) / 1000
  report({ type: 'written', startedAtMicros, loopMs, cpuMs: cpuMs() - cpuBefore })
}

process.on('message', (command: WriterCommand) => {
  if (command.cmd === 'listen') {
    expected = command.sockets
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      report({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 })
    })
  } else {
    writeToAll()
  }
})

process.on('disconnect', () => process.exit(0))
