import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { Server } from 'socket.io'
import { basicRoutes, listenAddress, type BaselineEvent } from './http-basics.js'

/**
 * Baseline: socket.io with one room per topic, what a Node developer would
 * pick instead of writing a broker. WebSocket transport only, no compression
 * (socket.io's default), so it is compared on the same wire as the others.
 */
const seqs = new Map<string, number>()
const server = createServer(basicRoutes((name) => seqs.set(name, 0)))
const io = new Server(server, { transports: ['websocket'], serveClient: false, perMessageDeflate: false })

io.on('connection', (socket) => {
  socket.on('subscribe', (topic: unknown, ack: unknown) => {
    if (typeof topic !== 'string' || typeof ack !== 'function') return
    void socket.join(topic)
    ack({ status: 'ok' })
  })
  socket.on('publish', (topic: unknown, message: unknown, ack: unknown) => {
    if (typeof topic !== 'string' || typeof ack !== 'function') return
    const seq = (seqs.get(topic) ?? 0) + 1
    seqs.set(topic, seq)
    const payload = typeof message === 'object' && message !== null && 'payload' in message ? message.payload : undefined
    const event: BaselineEvent = { type: 'event', topic, seq, message: { id: randomUUID(), payload }, ts: new Date().toISOString() }
    io.to(topic).emit('event', event)
    ack({ seq })
  })
})
const { port, host } = listenAddress()
server.listen(port, host)
process.on('SIGTERM', () => process.exit(0))
