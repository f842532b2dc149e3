export type Backoff = {
  /** The ceiling of the first retry's delay; it doubles with every failed attempt. */
  minDelayMs: number
  /** The ceiling never grows past this. */
  maxDelayMs: number
}

/**
 * Full jitter: a delay drawn uniformly from [0, min(max, min · 2^attempt)).
 * Clients that lost the same server at the same moment spread out instead of
 * coming back together, and each failed attempt doubles the expected wait.
 */
export const backoffDelay = (attempt: number, backoff: Backoff, random: () => number = Math.random): number =>
  Math.floor(random() * Math.min(backoff.maxDelayMs, backoff.minDelayMs * 2 ** attempt))
