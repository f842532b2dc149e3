/** The publishes of one topic that go to Redis in one script call, in the order they were made. */
export type Batch = {
  topic: string
  /** The events' texts after their seqs, back to back, in UTF-8. */
  texts: Buffer
  /** Each text's length in bytes. */
  lengths: number[]
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

/** The smallest Buffer a batch's texts start in; it doubles as they grow. */
const FIRST_BUFFER_BYTES = 4 * 1024

/** A batch still taking publishes. */
type Open<P> = { topic: string; texts: Buffer; bytes: number; lengths: number[]; countSubscribers: boolean; publishes: P[] }

/** What sending a round of batches gives: each batch's outcome, and when Redis has answered them all. */
export type Sent<R> = { outcomes: Promise<R>[]; answered: Promise<unknown> }

/**
 * Collects publishes into one batch per topic, and sends the open batches
 * together once the turn's I/O is done, or, while Redis has not yet answered
 * the previous round, once it has (a batch that fills leaves at once). A
 * script call per event cost Redis and the node far more than the event
 * itself. Waiting for the previous round lets the batches grow with the
 * load, by as much as arrives in one round trip, so a busy node makes fewer,
 * larger calls and channel messages; an idle one sends at once.
 */
export class Outbox<R, P> {
  private readonly open = new Map<string, Open<P>>()
  private scheduled = false
  /** Rounds sent that Redis has not answered yet. */
  private unanswered = 0

  /**
   * `sendBatches` sends the batches in the order given (in one write where it
   * can); `settlement` hands each batch's outcome to its publishes, the `P`s
   * the caller added (what their answers need, and nothing more).
   */
  constructor(private readonly sendBatches: (batches: Batch[]) => Sent<R>, private readonly settlement: Settlement<R, P>) {}

  /**
   * The text is encoded at once into the batch's Buffer, outside the
   * JavaScript heap: a publish may wait here for a round trip, and the young
   * generation's collections would copy the string meanwhile.
   */
  add(topic: string, afterSeq: string, countSubscribers: boolean, publish: P): void {
    const length = Buffer.byteLength(afterSeq)
    let entry = this.open.get(topic)
    if (entry !== undefined && (entry.lengths.length >= MOST_EVENTS || entry.bytes + length > MOST_BYTES)) {
      this.send([entry])
      entry = undefined
    }
    entry ??= this.openBatch(topic)
    if (entry.texts.length < entry.bytes + length) entry.texts = grown(entry.texts, entry.bytes, entry.bytes + length)
    entry.texts.write(afterSeq, entry.bytes)
    entry.bytes += length
    entry.lengths.push(length)
    entry.countSubscribers ||= countSubscribers
    entry.publishes.push(publish)
  }

  /** Sends every open batch now: called before a command that must follow them, and when the round is due. */
  readonly flush = (): void => {
    this.scheduled = false
    if (this.open.size > 0) this.send([...this.open.values()])
  }

  private openBatch(topic: string): Open<P> {
    const entry: Open<P> = { topic, texts: EMPTY, bytes: 0, lengths: [], countSubscribers: false, publishes: [] }
    this.open.set(topic, entry)
    if (this.unanswered === 0) this.scheduleFlush()
    return entry
  }

  /** At the end of this turn, so that the publishes read in it join the round. */
  private scheduleFlush(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(this.flush)
  }

  private send(entries: Open<P>[]): void {
    for (const entry of entries) this.open.delete(entry.topic)
    const batches = entries.map(({ topic, texts, bytes, lengths, countSubscribers }) =>
      ({ topic, texts: texts.subarray(0, bytes), lengths, countSubscribers }))
    const { outcomes, answered } = this.sendBatches(batches)
    this.unanswered++
    void answered.finally(() => {
      if (--this.unanswered === 0 && this.open.size > 0) this.scheduleFlush()
    })
    entries.forEach((entry, i) => this.settleWhenAnswered(entry.publishes, outcomes[i] as Promise<R>))
  }

  /** Keeps only the publishes while Redis answers. */
  private settleWhenAnswered(publishes: P[], outcome: Promise<R>): void {
    const { settle, fail } = this.settlement
    outcome.then(
      (answered) => publishes.forEach((publish, place) => settle(publish, answered, place)),
      (error: unknown) => publishes.forEach((publish) => fail(publish, error)),
    )
  }
}

const EMPTY = Buffer.alloc(0)

/** A Buffer of at least `atLeast` bytes (doubling), holding the first `used` bytes of `texts`. */
function grown(texts: Buffer, used: number, atLeast: number): Buffer {
  let size = Math.max(texts.length * 2, FIRST_BUFFER_BYTES)
  while (size < atLeast) size *= 2
  const bigger = Buffer.allocUnsafeSlow(size)
  texts.copy(bigger, 0, 0, used)
  return bigger
}
