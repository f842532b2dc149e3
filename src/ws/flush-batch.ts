/** Something whose writes are held until the batch flushes it. */
export interface Flushable {
  flush(): void
}

/**
 * Collects the connections written to during one event-loop turn and flushes
 * them together once the turn's I/O callbacks are done, so every frame a socket
 * got in that turn leaves in one system call instead of one per frame.
 */
export class FlushBatch {
  private pending: Flushable[] = []
  private scheduled = false

  add(target: Flushable): void {
    this.pending.push(target)
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(this.flush)
  }

  readonly flush = (): void => {
    this.scheduled = false
    const targets = this.pending
    this.pending = []
    for (const target of targets) target.flush()
  }
}
