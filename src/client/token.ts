/**
 * The `exp` claim of a JWT in milliseconds since the epoch, read without
 * verifying it (the server does that); undefined when there is none to read.
 */
export function expiryOf(jwt: string): number | undefined {
  const claims = jwt.split('.')[1]
  if (claims === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(atob(claims.replace(/-/g, '+').replace(/_/g, '/')))
    const exp = typeof parsed === 'object' && parsed !== null && 'exp' in parsed ? parsed.exp : undefined
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}

/** setTimeout fires at once for any delay past 2^31 - 1 ms (about 24.8 days). */
const LONGEST_TIMER_MS = 2 ** 31 - 1

/**
 * When to refresh a token that expires at `expiresAt`: once 80 % of its
 * remaining life is gone, early enough for a slow token service and the
 * server's clock, late enough not to ask for tokens all the time.
 */
export const refreshDelay = (expiresAt: number, now: number): number =>
  Math.min(LONGEST_TIMER_MS, Math.max(0, Math.floor((expiresAt - now) * 0.8)))
