import { createHash, timingSafeEqual } from 'node:crypto'
import { OPEN, type Principal } from './access.js'
import type { AccessPolicy, KeyEntry } from './auth-file.js'
import { MAX_TOKEN_BYTES, looksLikeJwt, verifyToken } from './jwt.js'

/**
 * A credential as presented. `key`: X-API-Key or `?api_key=`, an API key only.
 * `bearer`: Authorization: Bearer, `?access_token=` or the subprotocol, an API
 * key or a JWT.
 */
export type Credential = { readonly value: string; readonly carrier: 'key' | 'bearer' }

/** Why a request was refused: what /metrics counts (never the credential). */
export type RefusalReason = 'missing_credential' | 'invalid_credential' | 'token_expired' | 'forbidden'
export const REFUSAL_REASONS: readonly RefusalReason[] = ['missing_credential', 'invalid_credential', 'token_expired', 'forbidden']
export type RefusalCounts = Record<RefusalReason, number>
export const newRefusalCounts = (): RefusalCounts => ({ missing_credential: 0, invalid_credential: 0, token_expired: 0, forbidden: 0 })

export type Authentication =
  | { ok: true; principal: Principal }
  | { ok: false; reason: Exclude<RefusalReason, 'forbidden'>; message: string }

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest()

const API_KEY_ID = 'API_KEY'

/** API_KEY, when set, is one admin key next to AUTH_FILE's. */
function withApiKey(policy: AccessPolicy, apiKey: string | undefined): AccessPolicy {
  if (apiKey === undefined) return policy
  const principal: Principal = { role: 'admin', id: API_KEY_ID, subject: API_KEY_ID, grants: { publish: [], subscribe: [] }, expiresAt: undefined }
  return { ...policy, keys: [...policy.keys, { digest: sha256(apiKey), principal }] }
}

/**
 * Turns a presented credential into a principal under the current policy.
 * Open (everything allowed) only when neither API_KEY nor AUTH_FILE is set.
 */
export class Authenticator {
  private policy: AccessPolicy

  constructor(private readonly apiKey: string | undefined, filePolicy: AccessPolicy | undefined) {
    this.isOpen = apiKey === undefined && filePolicy === undefined
    this.policy = withApiKey(filePolicy ?? { keys: [], jwt: undefined }, apiKey)
  }

  readonly isOpen: boolean

  /** A reloaded AUTH_FILE; API_KEY stays. */
  replace(filePolicy: AccessPolicy): void {
    this.policy = withApiKey(filePolicy, this.apiKey)
  }

  async authenticate(credential: Credential | undefined, nowMs: number): Promise<Authentication> {
    if (this.isOpen) return { ok: true, principal: OPEN }
    if (credential === undefined) return { ok: false, reason: 'missing_credential', message: 'a credential is required' }
    if (credential.value.length > MAX_TOKEN_BYTES) {
      return { ok: false, reason: 'invalid_credential', message: `the credential is longer than ${MAX_TOKEN_BYTES} bytes` }
    }
    const entry = this.keyEntry(credential.value)
    if (entry !== undefined) return { ok: true, principal: entry.principal }
    const { jwt } = this.policy
    if (credential.carrier === 'bearer' && jwt !== undefined && looksLikeJwt(credential.value)) {
      const checked = await verifyToken(credential.value, jwt, nowMs)
      return checked.ok ? checked : { ok: false, reason: checked.reason, message: checked.message }
    }
    return { ok: false, reason: 'invalid_credential', message: 'the credential is not a valid API key or token' }
  }

  /** Compares with every key, without stopping at a match, so the time taken says nothing about which. */
  private keyEntry(value: string): KeyEntry | undefined {
    const digest = sha256(value)
    let found: KeyEntry | undefined
    for (const entry of this.policy.keys) {
      if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry
    }
    return found
  }
}
