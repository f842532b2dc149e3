import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { WebSocket, type ClientOptions } from 'ws'
import { createLogger, startServer as start, type RunningServer, type ServerOptions } from '../src/server.js'

/** Longest any single wait in a test may take before it fails with a message. */
export const WAIT_MS = 5_000

export type LogLine = { level: string; msg: string; [field: string]: unknown }

export type TestServer = RunningServer & {
  wsUrl: string
  /** Every log line so far, raw. */
  logs: string[]
  /** Resolves with the first log line, past or future, with this msg. */
  waitForLog(msg: string): Promise<LogLine>
}

/** Collects JSON log lines as text and lets a test await one by its msg. */
export function watchLog(): {
  lines: string[]
  push(text: string): void
  waitFor(msg: string, ms?: number): Promise<LogLine>
  /** No more lines will come: every wait still open fails now with `why`, rather than at its timeout. */
  end(why: string): void
} {
  const lines: string[] = []
  const waiters: { msg: string; resolve(line: LogLine): void; reject(error: Error): void }[] = []
  let ended: string | undefined
  const push = (text: string): void => {
    lines.push(text)
    const line = JSON.parse(text) as LogLine
    for (const waiter of waiters.filter((w) => w.msg === line.msg)) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(line)
    }
  }
  const notLogged = (why: string, msg: string): Error => new Error(`${why} before logging "${msg}"`)
  const waitFor = (msg: string, ms = WAIT_MS): Promise<LogLine> => {
    const seen = lines.map((text) => JSON.parse(text) as LogLine).find((line) => line.msg === msg)
    if (seen) return Promise.resolve(seen)
    if (ended !== undefined) return Promise.reject(notLogged(ended, msg))
    return within(new Promise<LogLine>((resolve, reject) => waiters.push({ msg, resolve, reject })), `log line "${msg}"`, ms)
  }
  const end = (why: string): void => {
    ended = why
    for (const waiter of waiters.splice(0)) waiter.reject(notLogged(why, waiter.msg))
  }
  return { lines, push, waitFor, end }
}

/** The raw log lines at level error: a test that provokes faults expects none. */
export const errorLines = (logs: string[]): string[] => logs.filter((line) => line.includes('"level":"error"'))

/**
 * Set by a cluster suite (test/cluster/): every startServer then starts this
 * many nodes on that Redis, each call with a key prefix of its own, and the
 * requests and connections made through the first node's URLs go to the
 * nodes in turn, so that one test's clients and REST calls land on different nodes.
 */
let cluster: { redisUrl: string; nodes: number; started: number } | undefined
type Rotation = { http: string[]; ws: string[]; next: number }
const rotations = new Map<string, Rotation>()

export function runAsCluster(redisUrl: string, nodes: number): void {
  cluster = { redisUrl, nodes, started: 0 }
}

/** The URL this request or connection goes to: in cluster mode the next node's. */
function nodeFor(url: string, kind: 'http' | 'ws'): string {
  const rotation = rotations.get(url)
  if (rotation === undefined) return url
  return rotation[kind][rotation.next++ % rotation.http.length] as string
}

/**
 * URLs that reach one node only, for a test of what a node reports about
 * itself (its connections in /health, its counters): in cluster mode the
 * second node, whose URLs are never rotated; otherwise the server's own.
 */
export function oneNode(server: TestServer): { url: string; wsUrl: string } {
  const rotation = rotations.get(server.url)
  return rotation === undefined ? server : { url: rotation.http[1] as string, wsUrl: rotation.ws[1] as string }
}

async function startOne(t: TestContext, options: ServerOptions, log = watchLog()): Promise<TestServer> {
  const server = await start({ port: 0, host: '127.0.0.1', logger: createLogger('debug', log.push), ...options })
  t.after(() => server.close())
  return { ...server, wsUrl: server.url.replace(/^http/, 'ws') + '/ws', logs: log.lines, waitForLog: log.waitFor }
}

/** Starts a server on an ephemeral port with a logger that collects lines; closed after the test. */
export async function startServer(t: TestContext, options: ServerOptions = {}): Promise<TestServer> {
  if (cluster === undefined) return startOne(t, options)
  const clusterOptions = { redisUrl: cluster.redisUrl, redisPrefix: `test${++cluster.started}`, ...options }
  // One log for all the nodes: a test awaits a line whichever node its client reached.
  const log = watchLog()
  const nodes = await Promise.all(Array.from({ length: cluster.nodes }, () => startOne(t, clusterOptions, log)))
  const first = nodes[0] as TestServer
  const rotation = { http: nodes.map((n) => n.url), ws: nodes.map((n) => n.wsUrl), next: 0 }
  rotations.set(first.url, rotation)
  rotations.set(first.wsUrl, rotation)
  return first
}

export type HttpResult = { status: number; headers: Headers; text: string; body: unknown }

export async function request(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const res = await fetch(nodeFor(base, 'http') + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT_MS),
  })
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: res.status, headers: res.headers, text, body: parsed }
}

export const createTopic = async (base: string, name: string): Promise<void> => {
  const res = await request(base, 'POST', '/topics', { name })
  if (res.status !== 201) throw new Error(`creating topic ${name} failed: ${res.status} ${res.text}`)
}

/** Publishes `count` events (payloads 1..count) to `topic` over REST; returns the epoch the answers carry. */
export async function publishMany(base: string, topic: string, count: number): Promise<string> {
  let epoch = ''
  for (let i = 1; i <= count; i++) {
    const res = await request(base, 'POST', `/topics/${topic}/messages`, { payload: i })
    if (res.status !== 200) throw new Error(`publishing to ${topic} failed: ${res.status} ${res.text}`)
    epoch = (res.body as { epoch: string }).epoch
  }
  return epoch
}

/** A server frame as the tests read it. */
export type Frame = {
  type: string
  ts: string
  topic?: string
  seq?: number
  request_id?: string
  status?: string
  message_id?: string
  epoch?: string
  replayed?: number
  recovered?: boolean
  reason?: string
  msg?: string
  message?: { id: string; payload: unknown }
  error?: { code: string; message: string }
}

/** Rejects after `ms` with `what` in the message, so a missing event fails clearly. */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export type Client = {
  ws: WebSocket
  send(frame: object | string): void
  /** The next frame, parsed, in arrival order. */
  next(): Promise<Frame>
  /** The next frame's exact text. */
  nextRaw(): Promise<string>
  /** Sends a ping and returns every frame that arrived before its pong, each read by `parse` (plain JSON.parse unless given). */
  drain(parse?: (text: string) => Frame): Promise<Frame[]>
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>
}

let barrierCount = 0
/** Bounds on one drain(): a server that never stops sending must not hold a test until the runner's timeout. */
const DRAIN_MS = 30_000
const MAX_DRAINED = 100_000

/** Opens a client that queues every frame from the moment it opens; closed after the test. */
export async function connect(t: TestContext, wsUrl: string, options: ClientOptions = {}): Promise<Client> {
  const ws = new WebSocket(nodeFor(wsUrl, 'ws'), { perMessageDeflate: false, ...options })
  const queue: string[] = []
  const waiters: ((text: string) => void)[] = []
  ws.on('message', (data) => {
    const text = String(data)
    const waiter = waiters.shift()
    if (waiter) waiter(text)
    else queue.push(text)
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) }))
  })
  t.after(() => ws.terminate())
  await within(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    }),
    `the WebSocket to ${wsUrl} to open`,
  )
  const nextRaw = (): Promise<string> => {
    const queued = queue.shift()
    if (queued !== undefined) return Promise.resolve(queued)
    return within(new Promise<string>((resolve) => waiters.push(resolve)), 'a frame from the server')
  }
  const next = async (): Promise<Frame> => JSON.parse(await nextRaw()) as Frame
  const send = (frame: object | string): void => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  const drain = async (parse = (text: string): Frame => JSON.parse(text) as Frame): Promise<Frame[]> => {
    const id = `barrier-${++barrierCount}`
    send({ type: 'ping', request_id: id })
    const before: Frame[] = []
    const deadline = Date.now() + DRAIN_MS
    while (before.length < MAX_DRAINED && Date.now() < deadline) {
      const frame = parse(await nextRaw())
      if (frame.type === 'pong' && frame.request_id === id) return before
      before.push(frame)
    }
    throw new Error(`no pong for ${id} within ${DRAIN_MS} ms and ${MAX_DRAINED} frames`)
  }
  return { ws, send, next, nextRaw, drain, closed }
}

/** Opens a client subscribed to `topic`, which must exist; its ack is read already. */
export async function subscribedClient(t: TestContext, wsUrl: string, topic: string): Promise<Client> {
  const client = await connect(t, wsUrl)
  client.send({ type: 'subscribe', topic })
  assert.equal((await client.next()).type, 'ack', `the subscribe to '${topic}'`)
  return client
}
