import type { IncomingMessage } from 'node:http'
import type { Action } from '../auth/access.js'
import type { Authenticator, Credential, RefusalCounts } from '../auth/authenticator.js'
import { Router } from './router.js'

/** What both edges need to decide on access; one of each per server. */
export type AccessDeps = {
  authenticator: Authenticator
  /** Refused requests and messages by reason, for /metrics. */
  refusals: RefusalCounts
  now(): number
}

/**
 * Routes anyone may call without a credential: a short, explicit list. The
 * console page and its assets hold no data until its user gives a credential.
 */
const PUBLIC_PATHS = new Set(['/health', '/docs', '/openapi.yaml', '/openapi.json', '/client.js', '/console'])

export const isPublicRoute = (method: string, path: string): boolean =>
  (method === 'GET' || method === 'HEAD') && (PUBLIC_PATHS.has(path) || path.startsWith('/docs/') || path.startsWith('/console/'))

/** What each protected route asks of its caller. A route missing here is for admins only. */
const ACTIONS = new Router<Action>()
  .add('POST', '/topics', 'manage')
  .add('GET', '/topics', 'observe')
  .add('GET', '/topics/:name', 'observe')
  .add('DELETE', '/topics/:name', 'manage')
  .add('POST', '/topics/:name/messages', 'publish')
  .add('GET', '/topics/:name/messages', 'subscribe')
  .add('GET', '/stats', 'observe')
  .add('GET', '/metrics', 'observe')
  .add('GET', '/ws', 'connect')

/** The action a request performs and, for publish and subscribe, its topic. */
export function requestedAction(method: string, path: string): { action: Action; topic?: string } {
  const match = ACTIONS.match(method, path)
  if (match === undefined || 'allow' in match) return { action: 'manage' }
  return { action: match.handler, topic: match.params.name }
}

/** The subprotocol a browser sends its credential in, base64url-encoded after the prefix. */
export const AUTH_SUBPROTOCOL_PREFIX = 'pubsub.auth.'
export const SUBPROTOCOL = 'pubsub.v1'

function subprotocolCredential(header: string | undefined): string | undefined {
  for (const offered of (header ?? '').split(',')) {
    const protocol = offered.trim()
    if (!protocol.startsWith(AUTH_SUBPROTOCOL_PREFIX)) continue
    const encoded = protocol.slice(AUTH_SUBPROTOCOL_PREFIX.length)
    // An undecodable credential is still a credential, and fails as an invalid one.
    return /^[\w-]+$/.test(encoded) ? Buffer.from(encoded, 'base64url').toString('utf8') : encoded
  }
  return undefined
}

const nonEmpty = (value: string | null | undefined): value is string => typeof value === 'string' && value !== ''

/**
 * The credential a request presents: X-API-Key, then a bearer token; on the
 * WebSocket upgrade only (`upgradeQuery` given; browsers cannot set headers
 * there), then the `pubsub.auth.` subprotocol, `?access_token=` and `?api_key=`.
 */
export function presentedCredential(req: IncomingMessage, upgradeQuery?: URLSearchParams): Credential | undefined {
  const header = req.headers['x-api-key']
  if (typeof header === 'string' && header !== '') return { value: header, carrier: 'key' }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1]
  if (nonEmpty(bearer)) return { value: bearer, carrier: 'bearer' }
  if (upgradeQuery === undefined) return undefined
  const inProtocol = subprotocolCredential(req.headers['sec-websocket-protocol'])
  if (nonEmpty(inProtocol)) return { value: inProtocol, carrier: 'bearer' }
  const accessToken = upgradeQuery.get('access_token')
  if (nonEmpty(accessToken)) return { value: accessToken, carrier: 'bearer' }
  const apiKey = upgradeQuery.get('api_key')
  return nonEmpty(apiKey) ? { value: apiKey, carrier: 'key' } : undefined
}
