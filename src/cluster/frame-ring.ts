import { History } from '../broker/history.js'
import { frameLength } from '../frame.js'

/**
 * A followed topic's recent frames, kept as the runs they arrived in (see
 * FrameSlab.eventRun): for each event, its run and where its frame starts
 * there, so that keeping an event makes no object. A replay cuts the frames out.
 */
export class FrameRing {
  private readonly runs: History<Buffer>
  private readonly starts: History<number>

  constructor(capacity: number) {
    this.runs = new History(capacity)
    this.starts = new History(capacity)
  }

  /** Keeps every frame of `run`, seqs `first`, `first` + 1, …; returns the seq of the last. */
  push(first: number, run: Buffer): number {
    let seq = first
    for (let start = 0; start < run.length; start += frameLength(run, start), seq++) {
      this.runs.push(seq, run)
      this.starts.push(seq, start)
    }
    return seq - 1
  }

  get firstSeq(): number {
    return this.runs.firstSeq
  }

  get lastSeq(): number {
    return this.runs.lastSeq
  }

  /** The held frames numbered above `seq`, oldest first. */
  after(seq: number): Buffer[] {
    const starts = this.starts.after(seq)
    return this.runs.after(seq).map((run, i) => {
      const start = starts[i] as number
      return run.subarray(start, start + frameLength(run, start))
    })
  }
}
