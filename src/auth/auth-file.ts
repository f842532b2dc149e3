import type { CryptoKey } from 'jose'
import { readFile } from 'node:fs/promises'
import { isRecord } from '../protocol.js'
import { ROLES, type Grants, type Principal, type Role } from './access.js'
import { loadJose } from './jwt.js'
import { compilePatternList, type Pattern } from './pattern.js'

/** An API key's entry: the SHA-256 of the key, never the key. */
export type KeyEntry = { readonly digest: Buffer; readonly principal: Principal }

export type JwtKey = { readonly alg: string; readonly key: CryptoKey | Uint8Array }

export type JwtSettings = {
  readonly issuer: string | undefined
  readonly audience: string | undefined
  readonly toleranceSec: number
  readonly keys: ReadonlyMap<string, JwtKey>
}

/** Who may connect: what AUTH_FILE holds, plus API_KEY as one admin key. */
export type AccessPolicy = { readonly keys: readonly KeyEntry[]; readonly jwt: JwtSettings | undefined }

/** Variables `secret_env` entries are read from. */
export type Env = Readonly<Record<string, string | undefined>>

/** HMAC secrets at least as long as the hash (RFC 7518, section 3.2). */
const HMAC_MIN_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 }
const PUBLIC_KEY_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
const ALGS = [...Object.keys(HMAC_MIN_BYTES), ...PUBLIC_KEY_ALGS]
const MAX_TOLERANCE_SEC = 600

/** A bad AUTH_FILE at start-up; the message is the one line that names the entry and the problem. */
export class AuthFileError extends Error {
  override readonly name = 'AuthFileError'
}

/** Thrown inside this module only: the one line saying which entry is wrong and how. */
class Problem extends Error {}

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== ''

function onlyFields(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(value).find((name) => !allowed.includes(name))
  if (unknown !== undefined) throw new Problem(`${where}: unknown field "${unknown}"; use ${allowed.join(', ')}`)
}

function compilePatterns(where: string, value: unknown): Pattern[] {
  const patterns = compilePatternList(value)
  if (typeof patterns === 'string') throw new Problem(`${where}${patterns}`)
  return patterns
}

function keyEntry(raw: unknown, i: number, seenIds: Set<string>, seenDigests: Set<string>): KeyEntry {
  let where = `keys[${i}]`
  if (!isRecord(raw)) throw new Problem(`${where}: must be an object with id, role and sha256`)
  if (!nonEmpty(raw.id)) throw new Problem(`${where}: "id" must be a non-empty string`)
  where += ` (id "${raw.id}")`
  onlyFields(where, raw, ['id', 'role', 'sha256', 'publish', 'subscribe'])
  if (seenIds.has(raw.id)) throw new Problem(`${where}: duplicate id`)
  if (!ROLES.includes(raw.role as Role)) throw new Problem(`${where}: unknown role ${JSON.stringify(raw.role)}; use ${ROLES.join(', ')}`)
  const role = raw.role as Role
  if (typeof raw.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(raw.sha256)) {
    throw new Problem(`${where}: "sha256" must be the key's SHA-256 as 64 hex digits`)
  }
  const hex = raw.sha256.toLowerCase()
  if (seenDigests.has(hex)) throw new Problem(`${where}: the same sha256 as an earlier key`)
  if (role !== 'client' && (raw.publish !== undefined || raw.subscribe !== undefined)) {
    throw new Problem(`${where}: only client keys take publish and subscribe patterns`)
  }
  const grants: Grants = { publish: compilePatterns(`${where}: publish`, raw.publish), subscribe: compilePatterns(`${where}: subscribe`, raw.subscribe) }
  seenIds.add(raw.id)
  seenDigests.add(hex)
  return { digest: Buffer.from(hex, 'hex'), principal: { role, id: raw.id, subject: raw.id, grants, expiresAt: undefined } }
}

async function jwtKey(raw: unknown, i: number, env: Env, seenKids: Set<string>): Promise<[string, JwtKey]> {
  let where = `jwt.keys[${i}]`
  if (!isRecord(raw)) throw new Problem(`${where}: must be an object with kid, alg and secret_env or public_key_file`)
  if (!nonEmpty(raw.kid)) throw new Problem(`${where}: "kid" must be a non-empty string`)
  where += ` (kid "${raw.kid}")`
  onlyFields(where, raw, ['kid', 'alg', 'secret_env', 'public_key_file'])
  if (seenKids.has(raw.kid)) throw new Problem(`${where}: duplicate kid`)
  seenKids.add(raw.kid)
  const alg = raw.alg
  if (typeof alg !== 'string' || !ALGS.includes(alg)) throw new Problem(`${where}: "alg" must be one of ${ALGS.join(', ')}`)
  const minBytes = HMAC_MIN_BYTES[alg]
  if (minBytes !== undefined) {
    if (raw.public_key_file !== undefined || !nonEmpty(raw.secret_env)) throw new Problem(`${where}: ${alg} takes "secret_env", the variable holding the secret`)
    const secret = env[raw.secret_env]
    if (secret === undefined || secret === '') throw new Problem(`${where}: the variable ${raw.secret_env} is not set`)
    const bytes = new TextEncoder().encode(secret)
    if (bytes.length < minBytes) throw new Problem(`${where}: the secret in ${raw.secret_env} is under ${minBytes} bytes, too short for ${alg}`)
    return [raw.kid, { alg, key: bytes }]
  }
  if (raw.secret_env !== undefined || !nonEmpty(raw.public_key_file)) throw new Problem(`${where}: ${alg} takes "public_key_file", a PEM public key`)
  const pem = await readFile(raw.public_key_file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Problem(`${where}: cannot read public_key_file "${raw.public_key_file}" (${error.code ?? error.message})`)
  })
  const key = await (await loadJose()).importSPKI(pem, alg).catch(() => {
    throw new Problem(`${where}: public_key_file "${raw.public_key_file}" is not a PEM public key for ${alg}`)
  })
  return [raw.kid, { alg, key }]
}

async function jwtSettings(raw: unknown, env: Env): Promise<JwtSettings | undefined> {
  if (raw === undefined) return undefined
  if (!isRecord(raw)) throw new Problem('jwt: must be an object with keys')
  onlyFields('jwt', raw, ['issuer', 'audience', 'clock_tolerance_sec', 'keys'])
  if (raw.issuer !== undefined && !nonEmpty(raw.issuer)) throw new Problem('jwt.issuer: must be a non-empty string')
  if (raw.audience !== undefined && !nonEmpty(raw.audience)) throw new Problem('jwt.audience: must be a non-empty string')
  const tolerance = raw.clock_tolerance_sec ?? 0
  if (!Number.isInteger(tolerance) || (tolerance as number) < 0 || (tolerance as number) > MAX_TOLERANCE_SEC) {
    throw new Problem(`jwt.clock_tolerance_sec: must be an integer from 0 to ${MAX_TOLERANCE_SEC}`)
  }
  if (!Array.isArray(raw.keys) || raw.keys.length === 0) throw new Problem('jwt.keys: must be a non-empty array of keys')
  const seenKids = new Set<string>()
  const keys = new Map<string, JwtKey>()
  for (const [i, entry] of raw.keys.entries()) {
    const [kid, key] = await jwtKey(entry, i, env, seenKids)
    keys.set(kid, key)
  }
  return { issuer: raw.issuer, audience: raw.audience, toleranceSec: tolerance as number, keys }
}

async function parsePolicy(text: string, env: Env): Promise<AccessPolicy> {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new Problem('is not valid JSON')
  }
  if (!isRecord(raw)) throw new Problem('must be a JSON object with "keys" and/or "jwt"')
  onlyFields('the file', raw, ['keys', 'jwt'])
  if (raw.keys !== undefined && !Array.isArray(raw.keys)) throw new Problem('keys: must be an array')
  const seenIds = new Set<string>()
  const seenDigests = new Set<string>()
  const keys = (raw.keys ?? []).map((entry: unknown, i: number) => keyEntry(entry, i, seenIds, seenDigests))
  return { keys, jwt: await jwtSettings(raw.jwt, env) }
}

/** Reads and checks AUTH_FILE: the policy, or one line naming the entry and what is wrong with it. */
export async function loadAuthFile(path: string, env: Env): Promise<{ ok: true; policy: AccessPolicy } | { ok: false; problem: string }> {
  try {
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Problem(`cannot be read (${error.code ?? error.message})`)
    })
    return { ok: true, policy: await parsePolicy(text, env) }
  } catch (error) {
    if (error instanceof Problem) return { ok: false, problem: `AUTH_FILE ${path}: ${error.message}` }
    throw error
  }
}
