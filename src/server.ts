import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AuthFileError, loadAuthFile, type Env } from './auth/auth-file.js'
import { Authenticator, newRefusalCounts } from './auth/authenticator.js'
import { Broker } from './broker/broker.js'
import type { Engine } from './broker/engine.js'
import { resolveOptions, type Options } from './config.js'
import { capConnections } from './connection-cap.js'
import { addClientScriptRoute } from './http/client-script.js'
import { addConsoleRoutes } from './http/console.js'
import { addDocsRoutes } from './http/docs.js'
import { addMetricsRoute, type GatewayCounts } from './http/metrics.js'
import { createClientErrorListener } from './http/client-error.js'
import { createRequestListeners, rejectExpectation } from './http/respond.js'
import { createRoutes } from './http/routes.js'
import { createLogger, type Logger } from './log.js'
import { Gateway } from './ws/gateway.js'

export type { Options } from './config.js'
export { DEFAULTS } from './config.js'
export { AuthFileError } from './auth/auth-file.js'
export { createLogger, type Logger, type LogLevel } from './log.js'

export type ServerOptions = Partial<Options> & {
  /** Where log lines go; by default JSON lines on stdout at `logLevel`. */
  logger?: Logger
  /** Milliseconds since the epoch for every ts the server stamps; Date.now by default. */
  clock?: () => number
  /** Library only: where AUTH_FILE's `secret_env` entries are looked up; none by default (the CLI passes its environment). */
  env?: Env
  /** Library only (no variable): how long a client may take to send its request headers; 10 s by default. */
  headersTimeoutMs?: number
  /** Library only (no variable): how long a client may take to send a whole request; 30 s by default. */
  requestTimeoutMs?: number
}

export type RunningServer = {
  /** The bound address; with `port: 0` the port the system picked. */
  address: { host: string; port: number }
  /** `http://host:port` for clients on this machine. */
  url: string
  /** Graceful shutdown: 1001 to every client, wait up to shutdownTimeoutMs, destroy the rest. */
  close(): Promise<void>
  /**
   * Reads AUTH_FILE again (the CLI does on SIGHUP). A bad file keeps the
   * current one; connections whose credential no longer holds are closed 4401.
   */
  reloadAuthFile(): Promise<{ ok: true } | { ok: false; problem: string }>
}

/** Slowloris guards: a request must send its headers, and finish, within these. */
const HEADERS_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 30_000

/**
 * Node enforces the two timeouts only when it sweeps its connections, every 30 s
 * by default, which would let a slow client stay up to 30 s past its deadline;
 * sweeping at a quarter of the header timeout (at most every second) keeps the
 * deadlines close.
 */
function httpTimeouts(given: ServerOptions): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  const headersTimeout = given.headersTimeoutMs ?? HEADERS_TIMEOUT_MS
  const requestTimeout = given.requestTimeoutMs ?? REQUEST_TIMEOUT_MS
  if (!Number.isSafeInteger(headersTimeout) || headersTimeout < 1) {
    throw new TypeError(`Expected \`headersTimeoutMs\` to be an integer >= 1, got \`${String(headersTimeout)}\``)
  }
  if (!Number.isSafeInteger(requestTimeout) || requestTimeout < headersTimeout) {
    throw new TypeError(`Expected \`requestTimeoutMs\` to be an integer >= headersTimeoutMs (${headersTimeout}), got \`${String(requestTimeout)}\``)
  }
  return { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4))) }
}

/** Starts the HTTP + WebSocket server. Bad options throw a TypeError naming the option. */
export async function startServer(given: ServerOptions = {}): Promise<RunningServer> {
  const { logger, clock, env = {}, ...rest } = given
  const options = resolveOptions(rest)
  const timeouts = httpTimeouts(given)
  const log = logger ?? createLogger(options.logLevel)
  const authenticator = await createAuthenticator(options, env, log)
  const access = { authenticator, refusals: newRefusalCounts(), now: Date.now }
  const startedAt = performance.now()
  let shuttingDown = false
  const isShuttingDown = (): boolean => shuttingDown

  const broker = await startEngine(options, clock, log)
  const gateway = new Gateway({ ...options, broker, log, access, isShuttingDown })
  const uptimeSec = (): number => Math.round(performance.now() - startedAt) / 1000
  const gatewayCounts = (): GatewayCounts => ({ ...gateway.counters, connections: gateway.connectionCount })
  const routes = createRoutes({ broker, connections: () => gateway.connectionCount, gatewayCounts, isShuttingDown, uptimeSec })
  const router = addConsoleRoutes(addClientScriptRoute(addDocsRoutes(routes)))
  const metrics = addMetricsRoute(router, {
    brokerStats: () => broker.localStats(),
    node: () => (broker.nodeId === undefined ? undefined : { id: broker.nodeId, redisAvailable: broker.available() }),
    gatewayCounts,
    refusals: () => access.refusals,
    uptimeSec,
  })
  const edge = createRequestListeners({ router, access, maxPayloadBytes: options.maxPayloadBytes, isShuttingDown, log })
  // Node answers an HTTP/1.1 request without Host with a bare 400; the request listener answers it
  // with a problem document instead, like every other error.
  const server = createServer({ ...timeouts, requireHostHeader: false }, edge.onRequest)
  server.on('checkContinue', edge.onCheckContinue)
  server.on('upgrade', gateway.handleUpgrade)
  capConnections(server, log)
  server.on('clientError', createClientErrorListener(log))
  server.on('checkExpectation', rejectExpectation)

  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error): void => {
      void broker.close()
      reject(error)
    }
    server.once('error', failed)
    server.listen(options.port, options.host, () => {
      server.off('error', failed)
      resolve()
    })
  })
  // After listening, an 'error' is a failed accept (EMFILE at the open-file limit, say):
  // log it and keep serving the connections already open.
  server.on('error', (error) => log.error('server error', { error }))
  const { address, port } = server.address() as AddressInfo
  const urlHost = address.includes(':') ? `[${address}]` : address
  log.info('listening', { host: address, port })

  let closing: Promise<void> | undefined
  // The port stays open while WebSocket clients drain, so health checks see 503
  // shutting_down instead of a refused connection; every other request and
  // upgrade is refused with 503 meanwhile.
  const shutdown = async (): Promise<void> => {
    shuttingDown = true
    log.info('shutting down', { connections: gateway.connectionCount })
    gateway.closeAll(1001, 'Server is shutting down')
    if (!(await settlesWithin(gateway.whenEmpty(), options.shutdownTimeoutMs))) {
      log.warn('shutdown timeout: destroying remaining connections', { connections: gateway.connectionCount })
      gateway.terminateAll()
    }
    gateway.stop()
    metrics.stop()
    await broker.close()
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeAllConnections()
    await closed
    log.info('stopped')
  }

  const reloadAuthFile = async (): Promise<{ ok: true } | { ok: false; problem: string }> => {
    const loaded = options.authFile === undefined
      ? { ok: false as const, problem: 'AUTH_FILE is not set: there is nothing to reload' }
      : await loadAuthFile(options.authFile, env)
    if (!loaded.ok) {
      log.warn('AUTH_FILE not reloaded: the credentials in force stay', { problem: loaded.problem })
      return loaded
    }
    authenticator.replace(loaded.policy)
    await gateway.recheckAll()
    log.info('AUTH_FILE reloaded', { keys: loaded.policy.keys.length, jwt_keys: loaded.policy.jwt?.keys.size ?? 0 })
    return { ok: true }
  }

  return {
    address: { host: address, port },
    url: `http://${urlHost}:${port}`,
    close: () => (closing ??= shutdown()),
    reloadAuthFile,
  }
}

/**
 * The in-memory broker, or with `redisUrl` a cluster node's engine: its module
 * (and the Redis client) is loaded only then, so a single server carries none of it.
 */
async function startEngine(options: Options, clock: (() => number) | undefined, log: Logger): Promise<Engine> {
  if (options.redisUrl === undefined) return new Broker({ ...options, now: clock })
  const { startClusterEngine } = await import('./cluster/cluster-engine.js')
  return startClusterEngine({ ...options, redisUrl: options.redisUrl, now: clock }, log)
}

/** Loads AUTH_FILE (a bad one throws AuthFileError with its one line); warns when nothing restricts access. */
async function createAuthenticator(options: Options, env: Env, log: Logger): Promise<Authenticator> {
  if (options.authFile === undefined) {
    if (options.apiKey === undefined) {
      log.warn('access control is off: neither API_KEY nor AUTH_FILE is set, so anyone who reaches the port may do everything')
    }
    return new Authenticator(options.apiKey, undefined)
  }
  const loaded = await loadAuthFile(options.authFile, env)
  if (!loaded.ok) throw new AuthFileError(loaded.problem)
  return new Authenticator(options.apiKey, loaded.policy)
}

/** True when `promise` settles before `ms` passes; the timer never outlives the wait. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  try {
    return await Promise.race([promise.then(() => true as const), timeout])
  } finally {
    clearTimeout(timer)
  }
}
