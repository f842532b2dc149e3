/**
 * The Node build: the global WebSocket when there is one (Node 22+), else ws,
 * loaded only then. Credentials in a header need ws: the standard WebSocket
 * cannot send headers.
 */
import { createRequire } from 'node:module'
import { PubSubClient, type ClientOptions, type TopicMap } from './client.js'
import { dialWith, globalWebSocket, type Dial } from './socket.js'

export * from './exports.js'

function dialWs(): Dial {
  const { WebSocket } = createRequire(import.meta.url)('ws') as typeof import('ws')
  return (target) => new WebSocket(target.url, target.protocols, { headers: target.headers, perMessageDeflate: false })
}

export function createClient<M extends TopicMap = TopicMap>(url: string, options: ClientOptions = {}): PubSubClient<M> {
  const viaHeader = options.credentialIn === 'header'
  if (viaHeader && options.WebSocket) throw new TypeError("Expected no `WebSocket` option with `credentialIn: 'header'`, which needs ws")
  const Native = options.WebSocket ?? (viaHeader ? undefined : globalWebSocket)
  return new PubSubClient<M>(url, options, Native ? dialWith(Native) : dialWs())
}
