// Turns successive /stats answers into the live view's series: publishes and
// deliveries per second from the growth of the server's counters between two
// polls, and the connection and subscription counts, over a sliding window.

/**
 * The /stats fields the live view reads; anything else in the answer is ignored.
 * @typedef {object} StatsSample
 * @property {number} connections
 * @property {number} subscriptions
 * @property {number} published messages published since the server started
 * @property {number} delivered events handed to subscribers since the server started
 */

/** @param {unknown} value @returns {value is Record<string, unknown>} */
const isRecord = (value) => typeof value === 'object' && value !== null && !Array.isArray(value)
/** @param {unknown} value @returns {value is number} */
const isCount = (value) => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

/**
 * Reads the sample out of a /stats answer, or undefined when it lacks a field.
 * @param {unknown} body
 * @returns {StatsSample | undefined}
 */
export function sampleOf(body) {
  if (!isRecord(body)) return undefined
  const { connections, subscriptions, messages_published: published, messages_delivered: delivered } = body
  if (!isCount(connections) || !isCount(subscriptions) || !isCount(published) || !isCount(delivered)) return undefined
  return { connections, subscriptions, published, delivered }
}

/** Points in time (seconds) with one value per series; null where a rate is unknown. */
export class RateHistory {
  /** @type {number[]} */ times = []
  /** @type {(number | null)[]} */ published = []
  /** @type {(number | null)[]} */ delivered = []
  /** @type {number[]} */ connections = []
  /** @type {number[]} */ subscriptions = []
  /** @type {{ time: number, sample: StatsSample } | undefined} */
  #previous

  /** @param {number} windowSeconds how far back the series reach */
  constructor(windowSeconds) {
    this.windowSeconds = windowSeconds
  }

  /** @param {number} time seconds @param {StatsSample} sample */
  add(time, sample) {
    const previous = this.#previous
    this.#previous = { time, sample }
    const elapsed = previous === undefined ? 0 : time - previous.time
    /** @param {number} now @param {number} before */
    // A counter that went down means the server restarted: no rate across that poll.
    const rate = (now, before) => (elapsed > 0 && now >= before ? (now - before) / elapsed : null)
    this.times.push(time)
    this.published.push(previous ? rate(sample.published, previous.sample.published) : null)
    this.delivered.push(previous ? rate(sample.delivered, previous.sample.delivered) : null)
    this.connections.push(sample.connections)
    this.subscriptions.push(sample.subscriptions)
    this.#dropBefore(time - this.windowSeconds)
  }

  /** @param {number} oldest */
  #dropBefore(oldest) {
    let stale = 0
    while (stale < this.times.length && (this.times[stale] ?? oldest) < oldest) stale++
    if (stale === 0) return
    for (const series of [this.times, this.published, this.delivered, this.connections, this.subscriptions]) series.splice(0, stale)
  }
}
