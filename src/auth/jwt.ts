import type { JWTPayload } from 'jose'
import type { Principal } from './access.js'
import type { JwtSettings } from './auth-file.js'
import { compilePatternList } from './pattern.js'

type Jose = typeof import('jose')
let joseModule: Promise<Jose> | undefined

/** jose, loaded on first use: a server without JWT keys never loads it, and starts as fast as before. */
export const loadJose = (): Promise<Jose> => (joseModule ??= import('jose'))

/** Longer tokens are refused before any parsing or cryptography. */
export const MAX_TOKEN_BYTES = 8192

export type TokenCheck =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'invalid_credential' | 'token_expired'; message: string }

const invalid = (message: string): TokenCheck => ({ ok: false, reason: 'invalid_credential', message: `the token ${message}` })

/** A compact JWS is three base64url parts; the cheap shape check before anything is decoded. */
export const looksLikeJwt = (text: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(text)

/** The `pubsub` claim's grants, or why the token carries none that can be used. */
function grantsOf(payload: JWTPayload): Principal['grants'] | string {
  const claim = payload.pubsub ?? {}
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) return 'has a "pubsub" claim that is not an object'
  const publish = compilePatternList('publish' in claim ? claim.publish : undefined)
  if (typeof publish === 'string') return `has pubsub.publish${publish}`
  const subscribe = compilePatternList('subscribe' in claim ? claim.subscribe : undefined)
  if (typeof subscribe === 'string') return `has pubsub.subscribe${subscribe}`
  return { publish, subscribe }
}

/** What a failed verification says; jose's own messages stay out of replies. */
function refusal({ errors }: Jose, error: unknown): TokenCheck {
  if (error instanceof errors.JWTExpired) return { ok: false, reason: 'token_expired', message: 'the token has expired' }
  if (error instanceof errors.JWTClaimValidationFailed) return invalid(`fails its "${error.claim}" claim check (${error.reason})`)
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('has a signature that does not verify')
  return invalid('is malformed')
}

/**
 * Verifies a token with the key its `kid` names and that key's pinned
 * algorithm: `none`, any other algorithm and keys carried in the token itself
 * are refused. `exp` is required; `nbf`/`exp` get the tolerance.
 */
export async function verifyToken(token: string, settings: JwtSettings, nowMs: number): Promise<TokenCheck> {
  if (token.length > MAX_TOKEN_BYTES) return invalid(`is longer than ${MAX_TOKEN_BYTES} bytes`)
  if (!looksLikeJwt(token)) return invalid('is not a JWT: three base64url parts separated by dots')
  const jose = await loadJose()
  let header
  try {
    header = jose.decodeProtectedHeader(token)
  } catch {
    return invalid('has a header that is not base64url JSON')
  }
  const kid = header.kid
  const key = typeof kid === 'string' ? settings.keys.get(kid) : undefined
  if (key === undefined) return invalid('names no known key in its "kid" header')
  if (header.alg !== key.alg) return invalid(`is not signed with ${key.alg}, the algorithm of its key`)
  let payload: JWTPayload
  try {
    ;({ payload } = await jose.jwtVerify(token, key.key, {
      algorithms: [key.alg],
      issuer: settings.issuer,
      audience: settings.audience,
      clockTolerance: settings.toleranceSec,
      requiredClaims: ['exp'],
      currentDate: new Date(nowMs),
    }))
  } catch (error) {
    return refusal(jose, error)
  }
  const grants = grantsOf(payload)
  if (typeof grants === 'string') return invalid(grants)
  const subject = typeof payload.sub === 'string' ? payload.sub : undefined
  // jose has checked that exp is present and a number; the guard only narrows the type.
  if (typeof payload.exp !== 'number') return invalid('has no "exp" claim')
  const expiresAt = (payload.exp + settings.toleranceSec) * 1000
  return { ok: true, principal: { role: 'client', id: `jwt:${String(kid)}`, subject, grants, expiresAt } }
}
