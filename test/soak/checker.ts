/**
 * The soak's definition of "nothing lost", checked as the run goes.
 *
 * Every send and receive takes a tick from one logical clock (the soak is one
 * JavaScript thread, so ticks order what the clients saw). A subscription is a
 * segment: from the tick its subscribe ack arrived to the tick it ended (the
 * unsubscribe or the final ping barrier was sent). A publish whose ack arrived
 * is one the server accepted. The server must deliver to a segment every
 * publish that was sent after the segment's ack and acknowledged before it
 * ended, and the segment must see seqs one apart. Because seqs must be
 * contiguous, "every required publish arrived" is just: the required seqs lie
 * between the first and last seq the segment received.
 *
 * In a cluster a publish acknowledged by one node reaches the others a moment
 * later, so a segment there ends once it has caught up (received the highest
 * seq it requires) rather than at a ping. A segment whose node was killed
 * goes on through a resume on another node, from its last seq, and is checked
 * as one; where the server cannot resume, it is cut: what it received must
 * still be one apart, but what its node had not yet sent may be missing.
 */

/** How many recent seqs per topic keep their message id for the cross-check. */
const IDS_KEPT = 50_000

export class Segment {
  ackAt: number | undefined
  endAt: number | undefined
  first: number | undefined
  last: number | undefined
  received = 0
  minRequired = Number.POSITIVE_INFINITY
  maxRequired = 0
  /** Set when a topic_deleted info ended it: publishes acked later still count, as they were accepted before the delete. */
  deleted = false
  /** The topic's epoch and head from the subscribe ack: where a resume starts when nothing has arrived yet. */
  epoch: string | undefined
  head = 0

  constructor(readonly topic: string, readonly owner: string, readonly floor: number) {}

  /** Every seq it requires so far has arrived (seqs arrive in order, so the highest is enough). */
  get caughtUp(): boolean {
    return this.maxRequired === 0 || (this.last ?? 0) >= this.maxRequired
  }

  /** The position to resume from: the last seq received, else the head when it subscribed. */
  get resumeSeq(): number {
    return this.last ?? this.head
  }
}

type TopicRecord = { segments: Set<Segment>; maxAcked: number; ids: Map<number, string> }

export class DeliveryChecker {
  private tick = 0
  private readonly topics = new Map<string, TopicRecord>()
  readonly failures: string[] = []
  publishesAcked = 0
  eventsChecked = 0
  segmentsChecked = 0
  /** Segments cut by a node's death without a resume. */
  segmentsCut = 0
  /** Required events that never arrived. */
  lost = 0
  /** Events that arrived twice or out of order. */
  misordered = 0

  now(): number {
    return ++this.tick
  }

  fail(message: string): void {
    if (this.failures.length < 50) this.failures.push(message)
  }

  private topic(name: string): TopicRecord {
    let record = this.topics.get(name)
    if (!record) this.topics.set(name, (record = { segments: new Set(), maxAcked: 0, ids: new Map() }))
    return record
  }

  /**
   * Opens a segment as its subscribe is sent. Events at or below `floor` cannot
   * arrive: they were acknowledged before the subscribe left and are older than
   * what `lastN` may replay.
   */
  open(topic: string, owner: string, lastN: number, historySize: number): Segment {
    const record = this.topic(topic)
    const segment = new Segment(topic, owner, Math.max(0, record.maxAcked - Math.min(lastN, historySize)))
    record.segments.add(segment)
    return segment
  }

  /** A subscribe the server refused (the topic was just deleted): nothing to check. */
  discard(segment: Segment): void {
    this.topics.get(segment.topic)?.segments.delete(segment)
  }

  event(segment: Segment, seq: number, id: string): void {
    const where = `${segment.owner} on '${segment.topic}'`
    if (segment.last === undefined) {
      if (seq <= segment.floor) this.fail(`${where}: first event seq ${seq} is older than the subscription (floor ${segment.floor})`)
      segment.first = seq
    } else if (seq !== segment.last + 1) {
      if (seq > segment.last) this.lost += seq - segment.last - 1
      else this.misordered++
      this.fail(`${where}: seq ${seq} after ${segment.last} (gap, duplicate or reorder)`)
    }
    segment.last = seq
    segment.received++
    this.eventsChecked++
    this.crossCheckId(segment.topic, seq, id, where)
  }

  acked(topic: string, seq: number, id: string, sentAt: number): void {
    const record = this.topic(topic)
    this.publishesAcked++
    record.maxAcked = Math.max(record.maxAcked, seq)
    for (const segment of record.segments) {
      if (segment.ackAt === undefined || segment.ackAt > sentAt || segment.endAt !== undefined) continue
      segment.minRequired = Math.min(segment.minRequired, seq)
      segment.maxRequired = Math.max(segment.maxRequired, seq)
    }
    this.crossCheckId(topic, seq, id, `publisher on '${topic}'`)
  }

  /** Every frame for one seq must carry the id the publisher was acknowledged with. */
  private crossCheckId(topic: string, seq: number, id: string, where: string): void {
    const ids = this.topic(topic).ids
    const known = ids.get(seq)
    if (known === undefined) {
      ids.set(seq, id)
      ids.delete(seq - IDS_KEPT)
    } else if (known !== id) {
      this.fail(`${where}: seq ${seq} carries id ${id}, another frame said ${known}`)
    }
  }

  /** Checks a segment whose end is confirmed (its unsubscribe ack or barrier pong arrived) and forgets it. */
  settle(segment: Segment): void {
    this.topics.get(segment.topic)?.segments.delete(segment)
    this.segmentsChecked++
    if (segment.maxRequired === 0) return
    const { first, last } = segment
    if (first === undefined || last === undefined) {
      this.lost += segment.maxRequired - segment.minRequired + 1
      this.fail(`${segment.owner} on '${segment.topic}': received nothing, must include ${segment.minRequired}..${segment.maxRequired}`)
    } else if (first > segment.minRequired || last < segment.maxRequired) {
      this.lost += Math.max(0, first - segment.minRequired) + Math.max(0, segment.maxRequired - last)
      this.fail(`${segment.owner} on '${segment.topic}': received seqs ${first}..${last}, must include ${segment.minRequired}..${segment.maxRequired}`)
    }
  }

  /** A segment whose node died and which could not be resumed: only what arrived is judged (by event()). */
  cut(segment: Segment): void {
    this.topics.get(segment.topic)?.segments.delete(segment)
    this.segmentsCut++
  }

  /** Segments still open: settled at the end, once every publisher's acks are in. */
  openSegments(): Segment[] {
    return [...this.topics.values()].flatMap((record) => [...record.segments])
  }
}
