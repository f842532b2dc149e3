import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { problem, type Reply } from './respond.js'

/** A file served from memory, with the hash a page appends as `?v=` to let browsers keep it. */
export type Asset = { contentType: string; bytes: Buffer | string; version: string }

export const NO_CACHE = { 'Cache-Control': 'no-cache' }
const IMMUTABLE = { 'Cache-Control': 'public, max-age=31536000, immutable' }

export const CONTENT_TYPES = {
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  html: 'text/html; charset=utf-8',
  png: 'image/png',
} as const

const versionOf = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex').slice(0, 16)

export const asset = (contentType: string, bytes: Buffer | string): Asset => ({ contentType, bytes, version: versionOf(bytes) })

export const serve = (contentType: string, bytes: Buffer | string, headers: Record<string, string>): Reply =>
  ({ status: 200, raw: { contentType, bytes }, headers })

/** The folder an installed package lives in, found the way Node resolves it. */
export function packageDir(name: string): string {
  return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`))
}

/**
 * Serves an allowlisted asset by its decoded name: a Map lookup, so '..', '%2F'
 * and the like simply are not keys. Asked for with its current version, it may be
 * cached for good; otherwise the browser asks again each time.
 */
export function serveAsset(assets: ReadonlyMap<string, Asset>, name: string, version: string | null, what: string): Reply {
  const found = assets.get(name)
  if (!found) return problem(404, 'NOT_FOUND', `no ${what} asset named '${name}'`)
  const caching = version === found.version ? IMMUTABLE : NO_CACHE
  return serve(found.contentType, found.bytes, { ...caching, 'X-Content-Type-Options': 'nosniff' })
}
