import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { basicRoutes, listenAddress, type BaselineEvent } from './http-basics.js'

/**
 * Baseline: the plain `ws` broker a Node developer would write, speaking the
 * service's protocol. Each event is serialized once and handed to ws.send
 * once per subscriber. With --corked, each subscriber socket is corked on its
 * first write of an event-loop turn and uncorked once at the end of the turn,
 * so all of that turn's frames leave in one write: the ceiling.
 */
const corked = process.argv.includes('--corked')

type Peer = { ws: WebSocket; socket: Duplex; corked: boolean }
type Topic = { seq: number; subscribers: Set<Peer> }

const topics = new Map<string, Topic>()
let toUncork: Peer[] = []

function flush(): void {
  const peers = toUncork
  toUncork = []
  for (const peer of peers) {
    peer.corked = false
    peer.socket.uncork()
  }
}

function deliver(peer: Peer, bytes: Buffer): void {
  if (corked && !peer.corked) {
    peer.corked = true
    peer.socket.cork()
    if (toUncork.push(peer) === 1) setImmediate(flush)
  }
  peer.ws.send(bytes, { binary: false })
}

const reply = (peer: Peer, value: object): void => deliver(peer, Buffer.from(JSON.stringify(value)))

function onMessage(peer: Peer, text: string): void {
  const m = JSON.parse(text) as { type?: string; topic?: string; request_id?: string; message?: { id?: string; payload?: unknown } }
  const topic = typeof m.topic === 'string' ? topics.get(m.topic) : undefined
  if (!topic || (m.type !== 'subscribe' && m.type !== 'publish')) {
    return reply(peer, { type: 'error', request_id: m.request_id, error: { code: 'BAD_REQUEST', message: 'unsupported' } })
  }
  if (m.type === 'subscribe') {
    topic.subscribers.add(peer)
    return reply(peer, { type: 'ack', request_id: m.request_id, topic: m.topic, status: 'ok', ts: new Date().toISOString() })
  }
  const seq = ++topic.seq
  const id = m.message?.id ?? randomUUID()
  const ts = new Date().toISOString()
  const event: BaselineEvent = { type: 'event', topic: m.topic as string, seq, message: { id, payload: m.message?.payload }, ts }
  const bytes = Buffer.from(JSON.stringify(event))
  for (const subscriber of topic.subscribers) deliver(subscriber, bytes)
  reply(peer, { type: 'ack', request_id: m.request_id, topic: m.topic, message_id: id, seq, status: 'ok', ts })
}

const server = createServer(basicRoutes((name) => topics.set(name, { seq: 0, subscribers: new Set() })))
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false, clientTracking: false })
wss.on('connection', (ws, req) => {
  const peer: Peer = { ws, socket: req.socket, corked: false }
  ws.on('message', (data) => onMessage(peer, data.toString()))
  ws.on('close', () => { for (const topic of topics.values()) topic.subscribers.delete(peer) })
  ws.on('error', () => ws.terminate())
})
const { port, host } = listenAddress()
server.listen(port, host)
process.on('SIGTERM', () => process.exit(0))
