/** The browser build: the page's own WebSocket, no Node module. */
import { PubSubClient, type ClientOptions, type TopicMap } from './client.js'
import { dialWith, globalWebSocket } from './socket.js'

export * from './exports.js'

export function createClient<M extends TopicMap = TopicMap>(url: string, options: ClientOptions = {}): PubSubClient<M> {
  const Native = options.WebSocket ?? globalWebSocket
  if (!Native) throw new TypeError('Expected a global WebSocket or the `WebSocket` option, got neither')
  if (options.credentialIn === 'header') throw new TypeError("Expected `credentialIn` to be 'protocol' or 'query': a browser cannot set headers on a WebSocket, got `header`")
  return new PubSubClient<M>(url, options, dialWith(Native))
}
