/**
 * What the client needs from a WebSocket (the browser's, Node's global one, or
 * ws), and where the credential travels on the upgrade request.
 */

// Handlers are compared bivariantly, so both the DOM's and ws's WebSocket fit.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack']

export interface SocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  /** ws only: drops the TCP connection without a close handshake. */
  terminate?(): void
  onopen: Handler<unknown> | null
  onmessage: Handler<{ data: unknown }> | null
  onclose: Handler<{ code: number; reason: string }> | null
  onerror: Handler<unknown> | null
}

/** A standard WebSocket constructor, such as the browser's `WebSocket`. */
export type WebSocketConstructor = new (url: string, protocols?: string[]) => SocketLike

/** Where the credential goes: the subprotocol list, the query string, or (Node's ws only) a header. */
export type CredentialCarrier = 'protocol' | 'query' | 'header'

export type Credential = { kind: 'apiKey' | 'token'; value: string }

/** Everything that opens one connection. */
export type DialTarget = { url: string; protocols: string[]; headers: Record<string, string> }

export type Dial = (target: DialTarget) => SocketLike

/** The subprotocol every connection offers; a credential rides next to it. */
export const PROTOCOL = 'pubsub.v1'

/** base64url of the UTF-8 bytes, without padding: the characters a subprotocol name may hold. */
export function base64url(text: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function placeCredential(url: string, credential: Credential | undefined, carrier: CredentialCarrier): DialTarget {
  if (!credential) return { url, protocols: [], headers: {} }
  const { kind, value } = credential
  if (carrier === 'protocol') return { url, protocols: [PROTOCOL, `pubsub.auth.${base64url(value)}`], headers: {} }
  if (carrier === 'header') {
    return { url, protocols: [], headers: kind === 'apiKey' ? { 'X-API-Key': value } : { Authorization: `Bearer ${value}` } }
  }
  const name = kind === 'apiKey' ? 'api_key' : 'access_token'
  return { url: `${url}${url.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`, protocols: [], headers: {} }
}

/** Opens sockets with a standard constructor, which cannot send headers. */
export const dialWith = (Native: WebSocketConstructor): Dial => (target) => new Native(target.url, target.protocols)

/** The global WebSocket: browsers, Node 22 and later. */
export const globalWebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
