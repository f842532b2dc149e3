/**
 * Fixed-capacity ring of the most recent items of a numbered stream (capacity
 * 0 keeps nothing). What it holds is always consecutive, firstSeq..lastSeq,
 * so which items follow a seq is arithmetic, not a search.
 */
export class History<T> {
  private readonly slots: (T | undefined)[]
  private next = 0
  private held = 0
  private newestSeq = 0

  constructor(readonly capacity: number) {
    this.slots = new Array<T | undefined>(capacity)
  }

  get size(): number {
    return this.held
  }

  /** The seq of the last item pushed, held or not (0 before any). */
  get lastSeq(): number {
    return this.newestSeq
  }

  /** The seq of the oldest item held; lastSeq + 1 when nothing is held. */
  get firstSeq(): number {
    return this.newestSeq - this.held + 1
  }

  /**
   * Appends the item numbered `seq`. One that does not follow lastSeq starts
   * the ring afresh, so no gap is ever held.
   */
  push(seq: number, item: T): void {
    if (seq !== this.newestSeq + 1) this.held = 0
    this.newestSeq = seq
    if (this.capacity === 0) return
    this.slots[this.next] = item
    this.next = (this.next + 1) % this.capacity
    if (this.held < this.capacity) this.held++
  }

  /** The held items numbered above `seq`, oldest first. */
  after(seq: number): T[] {
    return this.last(this.newestSeq - Math.max(seq, this.firstSeq - 1))
  }

  /** The last `n` items, oldest first; fewer when fewer are held. */
  private last(n: number): T[] {
    const count = Math.max(0, Math.min(n, this.held))
    const out = new Array<T>(count)
    let index = (this.next - count + this.capacity) % this.capacity
    for (let i = 0; i < count; i++) {
      out[i] = this.slots[index] as T
      index = index + 1 === this.capacity ? 0 : index + 1
    }
    return out
  }
}
