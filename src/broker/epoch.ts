import { randomBytes } from 'node:crypto'

/**
 * Names the incarnations of topics. A random id per source (one per broker,
 * so per server start) keeps a restarted server from ever repeating an epoch,
 * even for a topic whose head happens to match; the counter makes every
 * create within the process new. At most 12 + 1 + 11 characters of
 * A-Z a-z 0-9 . _ -, as the wire requires.
 */
export function epochSource(): () => string {
  const boot = randomBytes(9).toString('base64url')
  let created = 0
  return () => `${boot}.${(++created).toString(36)}`
}
