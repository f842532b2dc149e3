import type { IncomingMessage } from 'node:http'
import { createRequire } from 'node:module'
import type { Duplex } from 'node:stream'
import type { Engine } from '../broker/engine.js'
import { may } from '../auth/access.js'
import { AUTH_SUBPROTOCOL_PREFIX, SUBPROTOCOL, presentedCredential, type AccessDeps } from '../http/auth.js'
import { parseTarget, type RequestTarget } from '../http/request-target.js'
import type { Logger } from '../log.js'
import { Connection, type ConnectionDeps, type GatewayCounters } from './connection.js'
import { FlushBatch } from './flush-batch.js'

// ws is CommonJS. Imported from an ES module, Node loads its ESM wrapper and
// scans each CommonJS file behind it for exports: on Node 20 that made start-up
// ~80 ms slower and the idle process ~5 MiB larger than requiring it.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws')
type WebSocketServer = InstanceType<typeof WebSocketServer>

export type GatewayOptions = {
  broker: Engine
  log: Logger
  access: AccessDeps
  maxPayloadBytes: number
  maxBufferedBytes: number
  heartbeatIntervalMs: number
  isShuttingDown(): boolean
}

const REASONS: Record<number, string> = {
  401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 503: 'Service Unavailable',
}

/** Answers an upgrade we will not accept with a plain HTTP response, before any WebSocket exists. */
/**
 * pubsub.v1 when offered, else the first other offer (as before there was a
 * protocol of our own); never a `pubsub.auth.` one, which carries a credential.
 */
function selectProtocol(offered: Set<string>): string | false {
  if (offered.has(SUBPROTOCOL)) return SUBPROTOCOL
  for (const protocol of offered) if (!protocol.startsWith(AUTH_SUBPROTOCOL_PREFIX)) return protocol
  return false
}

function refuse(socket: Duplex, status: number, code: string, detail: string, header?: string): void {
  const body = JSON.stringify({ type: 'about:blank', title: REASONS[status], status, detail, code })
  const extra = header === undefined ? '' : `${header}\r\n`
  socket.on('error', () => socket.destroy())
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n${extra}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

/** The WebSocket side of the server: upgrades on /ws, live connections, heartbeat. */
export class Gateway {
  readonly counters: GatewayCounters = {
    connectionsAccepted: 0, connectionsRefused: 0, slowConsumers: 0, heartbeatTerminations: 0, badRequests: 0, internalErrors: 0,
  }
  private readonly wss: WebSocketServer
  private readonly connections = new Set<Connection>()
  private readonly batch = new FlushBatch()
  private readonly heartbeatTimer: NodeJS.Timeout
  /** One object shared by every connection rather than one per connection. */
  private readonly connectionDeps: ConnectionDeps
  private emptied: (() => void)[] = []

  constructor(private readonly options: GatewayOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes,
      // Required, not just cheaper: connections write pre-built frames straight to
      // the socket, which keeps frames in order only while ws writes synchronously.
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: selectProtocol,
    })
    this.connectionDeps = {
      broker: options.broker,
      log: options.log,
      maxBufferedBytes: options.maxBufferedBytes,
      batch: this.batch,
      counters: this.counters,
      access: options.access,
      onClose: (closed) => this.forget(closed),
    }
    this.heartbeatTimer = setInterval(() => this.beat(), options.heartbeatIntervalMs)
    this.heartbeatTimer.unref()
  }

  get connectionCount(): number {
    return this.connections.size
  }

  /**
   * The one place a bug on the upgrade path is caught: thrown from the server's
   * 'upgrade' listener, it would end the process and every connection with it.
   */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const target = parseTarget(req.url ?? '/')
    let handedToWs = false
    this.upgrade(req, target, socket, head, () => { handedToWs = true }).catch((error: unknown) => {
      // The path only: the query may carry a credential.
      this.options.log.error('upgrade failed', { path: target.path, error })
      // Before ws has the socket the client can still be told why; once ws may
      // have answered 101, closing is all that is left.
      if (handedToWs) socket.destroy()
      else refuse(socket, 500, 'INTERNAL', 'the server failed to handle this upgrade; it has been logged')
    })
  }

  private async upgrade(req: IncomingMessage, { path, query }: RequestTarget, socket: Duplex, head: Buffer, onHandedToWs: () => void): Promise<void> {
    if (path !== '/ws') return this.refuseUpgrade(socket, 404, 'NOT_FOUND', `no WebSocket endpoint at ${path}; use /ws`)
    if (req.method !== 'GET') {
      return this.refuseUpgrade(socket, 405, 'METHOD_NOT_ALLOWED', `${String(req.method)} is not allowed on /ws; open it with a GET upgrade`, 'Allow: GET')
    }
    if (this.options.isShuttingDown()) return this.refuseUpgrade(socket, 503, 'SHUTTING_DOWN', 'the server is shutting down')
    const { authenticator, refusals, now } = this.options.access
    const credential = presentedCredential(req, query)
    // A token is verified asynchronously; a socket that fails meanwhile must not end the process.
    const onError = (): void => void socket.destroy()
    socket.on('error', onError)
    const authenticated = await authenticator.authenticate(credential, now())
    socket.off('error', onError)
    if (socket.destroyed) return
    if (!authenticated.ok) {
      refusals[authenticated.reason]++
      const detail = `${authenticated.message}: send a valid API key or token as X-API-Key, Authorization: Bearer, ` +
        `the subprotocol ${AUTH_SUBPROTOCOL_PREFIX}<base64url>, ?access_token= or ?api_key=`
      // As on REST, the 401 names the scheme the credential can be sent with.
      return this.refuseUpgrade(socket, 401, 'UNAUTHORIZED', detail, 'WWW-Authenticate: Bearer')
    }
    const { principal } = authenticated
    if (!may(principal, 'connect')) {
      refusals.forbidden++
      return this.refuseUpgrade(socket, 403, 'FORBIDDEN', 'this credential does not allow opening /ws')
    }
    if (this.options.isShuttingDown()) return this.refuseUpgrade(socket, 503, 'SHUTTING_DOWN', 'the server is shutting down')
    onHandedToWs()
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new Connection(ws, socket, this.connectionDeps, { principal, credential })
      this.connections.add(connection)
      this.counters.connectionsAccepted++
    })
  }

  /** After AUTH_FILE is reloaded: every connection's credential is checked again. */
  recheckAll(): Promise<void> {
    return Promise.all([...this.connections].map((connection) => connection.recheck())).then(() => undefined)
  }

  /** Refuses and counts it: the live view shows refused connections. */
  private refuseUpgrade(...args: Parameters<typeof refuse>): void {
    this.counters.connectionsRefused++
    refuse(...args)
  }

  closeAll(code: number, reason: string): void {
    for (const connection of this.connections) connection.close(code, reason)
  }

  terminateAll(): void {
    for (const connection of this.connections) connection.terminate()
  }

  /** Resolves once no connection is left. */
  whenEmpty(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.emptied.push(resolve))
  }

  stop(): void {
    clearInterval(this.heartbeatTimer)
  }

  private beat(): void {
    for (const connection of this.connections) {
      if (!connection.heartbeat()) this.counters.heartbeatTerminations++
    }
  }

  private forget(connection: Connection): void {
    this.connections.delete(connection)
    if (this.connections.size > 0) return
    for (const resolve of this.emptied) resolve()
    this.emptied = []
  }
}
