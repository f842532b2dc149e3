export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Latency histogram: 10 µs buckets up to 2 s, one overflow bucket, the exact maximum. */
export class Histogram {
  static readonly BUCKET_US = 10
  static readonly BUCKETS = 200_000
  readonly counts: Uint32Array
  max = 0
  total = 0

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Uint32Array(Histogram.BUCKETS + 1)
    if (counts) this.counts.set(counts)
    for (const c of this.counts) this.total += c
  }

  record(micros: number): void {
    const us = micros < 0 ? 0 : micros
    const bucket = Math.min(Math.floor(us / Histogram.BUCKET_US), Histogram.BUCKETS)
    this.counts[bucket] = (this.counts[bucket] as number) + 1
    this.total++
    if (us > this.max) this.max = us
  }

  merge(other: Histogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] = (this.counts[i] as number) + (other.counts[i] as number)
    this.total += other.total
    this.max = Math.max(this.max, other.max)
  }

  /** The upper edge of the bucket holding quantile q, in milliseconds. */
  quantileMs(q: number): number {
    if (this.total === 0) return Number.NaN
    const rank = Math.ceil(q * this.total)
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] as number
      if (seen >= rank) return ((i + 1) * Histogram.BUCKET_US) / 1000
    }
    return this.max / 1000
  }

  /** Sparse form for IPC: [bucket, count] pairs. */
  toSparse(): { pairs: number[]; max: number } {
    const pairs: number[] = []
    this.counts.forEach((c, i) => { if (c > 0) pairs.push(i, c) })
    return { pairs, max: this.max }
  }

  static fromSparse(sparse: { pairs: number[]; max: number }): Histogram {
    const h = new Histogram()
    for (let i = 0; i < sparse.pairs.length; i += 2) {
      const count = sparse.pairs[i + 1] as number
      h.counts[sparse.pairs[i] as number] = count
      h.total += count
    }
    h.max = sparse.max
    return h
  }
}
