/** The publishes of one topic that go to Redis in one script call, in the order they were made. */
export type Batch = {
  topic: string
  /** Each event's text after its seq. */
  afterSeqs: string[]
  /** True when one of the publishes needs the cluster-wide subscriber count. */
  countSubscribers: boolean
}

/** Called with a publish's batch's outcome and its place in the batch (its seq is the first seq + place). */
export type Placed<R> = (outcome: R, place: number) => void

/** A batch holds at most this many events, and this many bytes beyond its first event, so no script call runs long. */
const MOST_EVENTS = 100
const MOST_BYTES = 256 * 1024

type Open<R> = { batch: Batch; bytes: number; placed: Placed<R>[]; failed: ((error: unknown) => void)[] }

/**
 * Collects the publishes made during one event-loop turn into one batch per
 * topic and sends the batches once the turn's I/O is done (or sooner, when
 * one is full). A script call per event cost Redis and the node far more
 * than the event itself, and the events a publisher sends in a burst then
 * also reach every node in one channel message.
 */
export class Outbox<R> {
  private readonly open = new Map<string, Open<R>>()
  private scheduled = false

  /** `sendBatches` sends the batches in the order given (in one write where it can) and returns each one's outcome. */
  constructor(private readonly sendBatches: (batches: Batch[]) => Promise<R>[]) {}

  /** `placed` gets the publish's outcome; `failed` the error of a batch whose outcome could not be read. */
  add(topic: string, afterSeq: string, countSubscribers: boolean, placed: Placed<R>, failed: (error: unknown) => void): void {
    let entry = this.open.get(topic)
    if (entry !== undefined && (entry.batch.afterSeqs.length >= MOST_EVENTS || entry.bytes + afterSeq.length > MOST_BYTES)) {
      this.send([entry])
      entry = undefined
    }
    entry ??= this.openBatch(topic)
    entry.batch.afterSeqs.push(afterSeq)
    entry.bytes += afterSeq.length
    entry.batch.countSubscribers ||= countSubscribers
    entry.placed.push(placed)
    entry.failed.push(failed)
  }

  /** Sends every open batch now: called before a command that must follow them, and at the end of the turn. */
  readonly flush = (): void => {
    this.scheduled = false
    if (this.open.size > 0) this.send([...this.open.values()])
  }

  private openBatch(topic: string): Open<R> {
    const entry: Open<R> = { batch: { topic, afterSeqs: [], countSubscribers: false }, bytes: 0, placed: [], failed: [] }
    this.open.set(topic, entry)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flush)
    }
    return entry
  }

  private send(entries: Open<R>[]): void {
    for (const entry of entries) this.open.delete(entry.batch.topic)
    const outcomes = this.sendBatches(entries.map((entry) => entry.batch))
    entries.forEach((entry, i) => void (outcomes[i] as Promise<R>).then(
      (outcome) => entry.placed.forEach((placed, place) => placed(outcome, place)),
      (error: unknown) => entry.failed.forEach((failed) => failed(error)),
    ))
  }
}
