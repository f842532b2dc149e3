import { matchesAny, type Pattern } from './pattern.js'

export type Role = 'admin' | 'metrics' | 'client'
export const ROLES: readonly Role[] = ['admin', 'metrics', 'client']

export type Grants = { readonly publish: readonly Pattern[]; readonly subscribe: readonly Pattern[] }

/** Who is asking: an API key's entry, a verified token, or anyone on an open server. */
export type Principal = {
  readonly role: Role
  /** For logs: a key's id, a token's `jwt:<kid>`, or `open`. Never a secret. */
  readonly id: string
  /** What `{sub}` stands for: a token's `sub`, a key's id. */
  readonly subject: string | undefined
  readonly grants: Grants
  /** When access ends, in ms since the epoch (a token's exp plus the tolerance); keys never expire. */
  readonly expiresAt: number | undefined
}

/**
 * `manage`: create and delete topics. `observe`: /metrics, /stats and the topic
 * list. `connect`: open /ws. `publish` and `subscribe` (history included) name a topic.
 */
export type Action = 'manage' | 'observe' | 'connect' | 'publish' | 'subscribe'

const NO_GRANTS: Grants = { publish: [], subscribe: [] }

/** Everyone, when neither API_KEY nor AUTH_FILE is configured. */
export const OPEN: Principal = { role: 'admin', id: 'open', subject: undefined, grants: NO_GRANTS, expiresAt: undefined }

/** The one decision of access control, for REST routes and WebSocket messages alike. */
export function may(principal: Principal, action: Action, topic?: string): boolean {
  switch (principal.role) {
    case 'admin': return true
    case 'metrics': return action === 'observe'
    case 'client':
      if (action === 'connect') return true
      if (action !== 'publish' && action !== 'subscribe') return false
      return topic !== undefined && matchesAny(principal.grants[action], topic, principal.subject)
  }
}

export const isExpired = (principal: Principal, nowMs: number): boolean =>
  principal.expiresAt !== undefined && nowMs >= principal.expiresAt
