import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Logger } from '../log.js'
import type { FailureCode } from '../protocol.js'
import { may, type Principal } from '../auth/access.js'
import { isPublicRoute, presentedCredential, requestedAction, type AccessDeps } from './auth.js'
import { closeAfterDroppingBody } from './lingering-close.js'
import { parseTarget, type RequestTarget } from './request-target.js'
import type { Params, Router } from './router.js'

/** What a handler returns; the edge turns it into bytes. */
export type Reply = {
  status: number
  /** A value sent as JSON, or ready bytes with their content type. */
  body?: unknown
  raw?: { contentType: string; bytes: Buffer | string }
  headers?: Record<string, string>
  /** The request body was refused before it was all read: drop the rest, then close. */
  refusedBody?: true
}

export type RequestContext = {
  params: Params
  query: URLSearchParams
  /** Reads the body as JSON whatever its Content-Type; a failure is a ready 400 or 413 reply. */
  readBody(): Promise<{ ok: true; value: unknown } | { ok: false; reply: Reply }>
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>

export type EdgeOptions = {
  router: Router<Handler>
  access: AccessDeps
  maxPayloadBytes: number
  isShuttingDown(): boolean
  log: Logger
}

const STATUS_OF: Record<FailureCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  TOKEN_EXPIRED: 401,
  FORBIDDEN: 403,
  TOPIC_NOT_FOUND: 404,
  TOPIC_EXISTS: 409,
  LIMIT_EXCEEDED: 409,
  SLOW_CONSUMER: 503,
  INTERNAL: 500,
  UNAVAILABLE: 503,
}

export const statusOf = (code: FailureCode): number => STATUS_OF[code]

/** An RFC 9457 problem details reply. */
export function problem(status: number, code: string, detail: string, headers?: Record<string, string>): Reply {
  const title = STATUS_CODES[status] ?? 'Error'
  return {
    status,
    raw: {
      contentType: 'application/problem+json',
      bytes: JSON.stringify({ type: 'about:blank', title, status, detail, code }),
    },
    headers,
  }
}

export const json = (status: number, body: unknown): Reply => ({ status, body })

function writeReply(res: ServerResponse, reply: Reply): void {
  const raw = reply.raw ?? { contentType: 'application/json', bytes: JSON.stringify(reply.body) }
  const length = typeof raw.bytes === 'string' ? Buffer.byteLength(raw.bytes) : raw.bytes.length
  res.writeHead(reply.status, { 'Content-Type': raw.contentType, 'Content-Length': length, ...reply.headers })
  res.end(raw.bytes)
}

/** How much more of a refused body is read and dropped before the connection is reset instead. */
const droppedBodyLimit = (maxPayloadBytes: number): number => 4 * maxPayloadBytes

const tooLarge = (limit: number): Reply => ({
  ...problem(413, 'PAYLOAD_TOO_LARGE', `request body exceeds the ${limit}-byte limit`),
  refusedBody: true,
})

/**
 * Collects the body up to `limit` bytes and parses it as JSON. A client waiting on
 * `Expect: 100-continue` is told to go on (`sendContinue`) only once the declared size fits.
 */
function readJson(req: IncomingMessage, limit: number, sendContinue: () => void): Promise<{ ok: true; value: unknown } | { ok: false; reply: Reply }> {
  const declared = Number(req.headers['content-length'])
  if (declared > limit) return Promise.resolve({ ok: false, reply: tooLarge(limit) })
  sendContinue()
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size <= limit) return void chunks.push(chunk)
      req.off('data', onData)
      req.off('end', onEnd)
      resolve({ ok: false, reply: tooLarge(limit) })
    }
    const onEnd = (): void => {
      const text = Buffer.concat(chunks).toString('utf8')
      if (text.trim() === '') return resolve({ ok: false, reply: problem(400, 'BAD_REQUEST', 'request body must be a JSON document') })
      try {
        resolve({ ok: true, value: JSON.parse(text) })
      } catch {
        resolve({ ok: false, reply: problem(400, 'BAD_REQUEST', 'request body is not valid JSON') })
      }
    }
    req.on('data', onData)
    req.once('end', onEnd)
    // A client that goes away mid-body is not a server fault: no 500, no error log.
    req.once('error', () => resolve({ ok: false, reply: problem(400, 'BAD_REQUEST', 'the request body was not received completely') }))
  })
}

async function route(req: IncomingMessage, { path, query }: RequestTarget, options: EdgeOptions, sendContinue: () => void): Promise<Reply> {
  const method = req.method ?? 'GET'
  if (req.httpVersion === '1.1' && req.headers.host === undefined) {
    return problem(400, 'BAD_REQUEST', 'an HTTP/1.1 request must carry a Host header', { Connection: 'close' })
  }
  const isHealth = path === '/health'
  if (options.isShuttingDown() && !isHealth) {
    return problem(503, 'SHUTTING_DOWN', 'the server is shutting down', { Connection: 'close' })
  }
  const isPublic = isPublicRoute(method, path)
  let principal: Principal | undefined
  if (!isPublic) {
    const authenticated = await options.access.authenticator.authenticate(presentedCredential(req), options.access.now())
    if (!authenticated.ok) {
      options.access.refusals[authenticated.reason]++
      const detail = `${authenticated.message}: send a valid API key or token as X-API-Key or Authorization: Bearer`
      return problem(401, 'UNAUTHORIZED', detail, { 'WWW-Authenticate': 'Bearer' })
    }
    principal = authenticated.principal
  }
  const match = options.router.match(method, path)
  if (match === undefined) return problem(404, 'NOT_FOUND', `no route for ${path}`)
  if ('allow' in match) {
    return problem(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use ${match.allow.join(', ')}`, {
      Allow: match.allow.join(', '),
    })
  }
  if (principal !== undefined) {
    const denied = forbidden(principal, method, path, options.access)
    if (denied) return denied
  }
  return match.handler({ params: match.params, query, readBody: () => readJson(req, options.maxPayloadBytes, sendContinue) })
}

/** Checked before the handler runs, so a refused caller never learns whether the topic exists. */
function forbidden(principal: Principal, method: string, path: string, access: AccessDeps): Reply | undefined {
  const { action, topic } = requestedAction(method, path)
  if (may(principal, action, topic)) return undefined
  access.refusals.forbidden++
  const what = topic === undefined ? `${method} ${path}` : `${action} on topic '${topic}'`
  return problem(403, 'FORBIDDEN', `this credential does not allow ${what}`)
}

/**
 * Answers a request whose Expect header is not 100-continue. Node would send a
 * bare 417 itself; this one is a problem document like every other error.
 */
export function rejectExpectation(req: IncomingMessage, res: ServerResponse): void {
  const detail = `Expect: ${String(req.headers.expect)} is not supported; only 100-continue is`
  writeReply(res, problem(417, 'EXPECTATION_FAILED', detail, { Connection: 'close' }))
}

/**
 * The HTTP edge: the one place a bug in a handler is caught, logged and answered 500.
 * `onCheckContinue` takes the requests that carry `Expect: 100-continue`: their 100 goes
 * out only when a handler reads the body, so a refusal comes before any body is sent.
 */
export function createRequestListeners(options: EdgeOptions) {
  const handle = async (req: IncomingMessage, res: ServerResponse, sendContinue: () => void): Promise<void> => {
    const target = parseTarget(req.url ?? '/')
    let reply: Reply
    try {
      reply = await route(req, target, options, sendContinue)
    } catch (error) {
      // The path only: a query may carry a key, and keys never reach the log.
      options.log.error('request failed', { method: req.method, path: target.path, error })
      reply = problem(500, 'INTERNAL', 'the server failed to handle this request; it has been logged')
    }
    if (res.headersSent || res.destroyed) return
    if (reply.refusedBody) closeAfterDroppingBody(req, droppedBodyLimit(options.maxPayloadBytes))
    writeReply(res, reply)
  }
  return {
    onRequest: (req: IncomingMessage, res: ServerResponse): Promise<void> => handle(req, res, () => {}),
    onCheckContinue: (req: IncomingMessage, res: ServerResponse): Promise<void> => handle(req, res, () => res.writeContinue()),
  }
}
