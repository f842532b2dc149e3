/** The publishes of one topic that go to Redis in one script call, in the order they were made. */
export type Batch = {
  topic: string
  /** Each event's text after its seq. */
  afterSeqs: string[]
  /** True when one of the publishes needs the cluster-wide subscriber count. */
  countSubscribers: boolean
}

/**
 * What the outbox does with each publish once its batch is answered: `settle`
 * gets the batch's outcome and the publish's place in it (its seq is the
 * first seq + place), `fail` the error of a batch whose outcome could not be read.
 */
export type Settlement<R, P> = {
  settle(publish: P, outcome: R, place: number): void
  fail(publish: P, error: unknown): void
}

/** A batch holds at most this many events, and this many bytes beyond its first event, so no script call runs long. */
const MOST_EVENTS = 100
const MOST_BYTES = 256 * 1024

type Open<P> = { batch: Batch; bytes: number; publishes: P[] }

/**
 * Collects the publishes made during one event-loop turn into one batch per
 * topic and sends the batches once the turn's I/O is done (or sooner, when
 * one is full). A script call per event cost Redis and the node far more
 * than the event itself, and the events a publisher sends in a burst then
 * also reach every node in one channel message.
 */
export class Outbox<R, P> {
  private readonly open = new Map<string, Open<P>>()
  private scheduled = false

  /**
   * `sendBatches` sends the batches in the order given (in one write where it
   * can) and returns each one's outcome; `settlement` hands it to each publish,
   * the `P` the caller added (what its answer needs, and nothing more).
   */
  constructor(private readonly sendBatches: (batches: Batch[]) => Promise<R>[], private readonly settlement: Settlement<R, P>) {}

  add(topic: string, afterSeq: string, countSubscribers: boolean, publish: P): void {
    let entry = this.open.get(topic)
    if (entry !== undefined && (entry.batch.afterSeqs.length >= MOST_EVENTS || entry.bytes + afterSeq.length > MOST_BYTES)) {
      this.send([entry])
      entry = undefined
    }
    entry ??= this.openBatch(topic)
    entry.batch.afterSeqs.push(afterSeq)
    entry.bytes += afterSeq.length
    entry.batch.countSubscribers ||= countSubscribers
    entry.publishes.push(publish)
  }

  /** Sends every open batch now: called before a command that must follow them, and at the end of the turn. */
  readonly flush = (): void => {
    this.scheduled = false
    if (this.open.size > 0) this.send([...this.open.values()])
  }

  private openBatch(topic: string): Open<P> {
    const entry: Open<P> = { batch: { topic, afterSeqs: [], countSubscribers: false }, bytes: 0, publishes: [] }
    this.open.set(topic, entry)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flush)
    }
    return entry
  }

  private send(entries: Open<P>[]): void {
    for (const entry of entries) this.open.delete(entry.batch.topic)
    const outcomes = this.sendBatches(entries.map((entry) => entry.batch))
    entries.forEach((entry, i) => this.settleWhenAnswered(entry.publishes, outcomes[i] as Promise<R>))
  }

  /** Keeps only the publishes while Redis answers: their texts have left, and the collector would copy them. */
  private settleWhenAnswered(publishes: P[], outcome: Promise<R>): void {
    const { settle, fail } = this.settlement
    outcome.then(
      (answered) => publishes.forEach((publish, place) => settle(publish, answered, place)),
      (error: unknown) => publishes.forEach((publish) => fail(publish, error)),
    )
  }
}
