import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** Routes anyone may call without a key; the console page and its assets hold no data until its user gives a credential. */
const PUBLIC_PATHS = new Set(['/health', '/docs', '/openapi.yaml', '/openapi.json', '/client.js', '/console'])

export const isPublicRoute = (method: string, path: string): boolean =>
  (method === 'GET' || method === 'HEAD') && (PUBLIC_PATHS.has(path) || path.startsWith('/docs/') || path.startsWith('/console/'))

/**
 * The key a request presents: X-API-Key, then a bearer token, then `?api_key=`
 * in `upgradeQuery`, which only the WebSocket upgrade passes (browsers cannot
 * set headers there).
 */
export function presentedKey(req: IncomingMessage, upgradeQuery?: URLSearchParams): string | undefined {
  const header = req.headers['x-api-key']
  if (typeof header === 'string' && header !== '') return header
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
  if (bearer?.[1]) return bearer[1]
  return upgradeQuery?.get('api_key') ?? undefined
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/** Constant-time comparison; hashing first makes the lengths equal and hides the key's length. */
export function isAuthorized(presented: string | undefined, expected: string | undefined): boolean {
  if (expected === undefined) return true
  if (presented === undefined) return false
  return timingSafeEqual(digest(presented), digest(expected))
}
