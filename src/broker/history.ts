/** Fixed-capacity ring of the most recent items; capacity 0 keeps nothing. */
export class History<T> {
  private readonly slots: (T | undefined)[]
  private next = 0
  private held = 0

  constructor(readonly capacity: number) {
    this.slots = new Array<T | undefined>(capacity)
  }

  get size(): number {
    return this.held
  }

  push(item: T): void {
    if (this.capacity === 0) return
    this.slots[this.next] = item
    this.next = (this.next + 1) % this.capacity
    if (this.held < this.capacity) this.held++
  }

  /** The last `n` items, oldest first; fewer when fewer are held. */
  last(n: number): T[] {
    const count = Math.min(n, this.held)
    const out = new Array<T>(count)
    let index = (this.next - count + this.capacity) % this.capacity
    for (let i = 0; i < count; i++) {
      out[i] = this.slots[index] as T
      index = index + 1 === this.capacity ? 0 : index + 1
    }
    return out
  }
}
