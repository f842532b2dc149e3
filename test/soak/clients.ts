import { WebSocket } from 'ws'
import type { Frame } from '../helpers.js'
import type { DeliveryChecker, Segment } from './checker.js'
import type { SoakNode } from './nodes.js'
import { settlesWithin } from './util.js'

/** The soak's clients: subscribers that check what they receive, and publishers that record what was acknowledged. */

/** Counts shared by every client of a run. */
export type Tally = {
  internalErrors: number
  refusedForDeletedTopic: number
  /** Subscriptions resumed on another node after theirs was killed, and how many of those the server recovered. */
  resumes: number
  resumesRecovered: number
  /** Subscriptions cut by a killed node and not resumed (short-lived subscribers, or a server without resume). */
  subscriptionsCut: number
  /** Publishes in flight on a node as it was killed: stored or not, nobody can tell. */
  publishesUnanswered: number
  /** Clients that moved to another node after theirs was killed. */
  reconnects: number
}

export const newTally = (): Tally => ({
  internalErrors: 0, refusedForDeletedTopic: 0, resumes: 0, resumesRecovered: 0, subscriptionsCut: 0, publishesUnanswered: 0, reconnects: 0,
})

/** A subscribe ack as a resume reads it (section 6 of the protocol). */
type SubscribeAck = Frame & { epoch?: string; recovered?: boolean; reason?: string }

/** An open connection and the node it leads to. */
export type Connection = { ws: WebSocket; node: SoakNode }

/** Opens a connection to a live node. */
export type Connector = () => Promise<Connection>

/**
 * How a subscriber ends its subscriptions: after a ping's pong (one server
 * delivers every event acknowledged before it), or once it has caught up
 * with every seq it requires (in a cluster, events reach a node a moment
 * after another node acknowledged them).
 */
export type Barrier = 'ping' | 'catch-up'

const DEADLINE_MS = 15_000

/** Opens a WebSocket; resolves once it is open, rejects on error or after the deadline. */
export function open(url: string, options: { autoPong?: boolean } = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...options })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`no connection to ${url} within ${DEADLINE_MS} ms`)) }, DEADLINE_MS)
    ws.once('open', () => { clearTimeout(timer); resolve(ws) })
    ws.once('error', (error) => { clearTimeout(timer); reject(error) })
  })
}

let requestCount = 0
const nextRequestId = (prefix: string): string => `${prefix}-${++requestCount}`

/** Replies the server owes a client, by request_id, with what to do when each arrives. */
class Pending {
  private readonly waiting = new Map<string, { onReply: (frame: Frame) => void; onDropped: (() => void) | undefined }>()

  /** `onDropped`, if given, runs when the request is forgotten with its connection. */
  expect(requestId: string, onReply: (frame: Frame) => void, onDropped?: () => void): void {
    this.waiting.set(requestId, { onReply, onDropped })
  }

  /** True when the frame answered a request. */
  settle(frame: Frame): boolean {
    const entry = frame.request_id === undefined ? undefined : this.waiting.get(frame.request_id)
    if (!entry) return false
    this.waiting.delete(frame.request_id as string)
    entry.onReply(frame)
    return true
  }

  get size(): number {
    return this.waiting.size
  }

  /** Forgets every request: their connection is gone, and so are their replies. */
  clear(): number {
    const dropped = [...this.waiting.values()]
    this.waiting.clear()
    for (const entry of dropped) entry.onDropped?.()
    return dropped.length
  }
}

/**
 * A healthy subscriber: every event goes to the segment of its topic, and
 * every segment is settled once its end is confirmed by the server. When its
 * node is killed it resumes every subscription on another node if it can
 * (`reconnect`), else its subscriptions are cut.
 */
export class CheckedSubscriber {
  private readonly segments = new Map<string, Segment>()
  private pending = new Pending()
  private ws: WebSocket
  /** Set when the server closed or dropped this healthy client: a failure unless the run is stopping. */
  closedBy: string | undefined
  /** After the final barrier nothing more is checked: events keep coming until the socket closes. */
  private finished = false
  /** Its node was killed and it does not resume: nothing more to check. */
  private cutOff = false
  /** Segments waiting to catch up, each with what to do when it has. */
  private readonly catchUps = new Map<Segment, () => void>()
  /** Unsubscribes on their way, which the final barrier waits for. */
  private readonly leaving = new Set<Promise<void>>()

  constructor(
    readonly name: string,
    connection: Connection,
    private readonly checker: DeliveryChecker,
    private readonly tally: Tally,
    private readonly historySize: number,
    private readonly barrier: Barrier = 'ping',
    private readonly reconnect?: Connector,
  ) {
    this.ws = connection.ws
    this.attach(connection)
  }

  /** Topics this client follows, or has a subscribe or unsubscribe in flight for. */
  get topics(): string[] {
    return [...this.segments.keys()]
  }

  subscribe(topic: string, lastN: number): void {
    if (this.segments.has(topic) || this.cutOff) return
    const segment = this.checker.open(topic, this.name, lastN, this.historySize)
    this.segments.set(topic, segment)
    this.sendSubscribe(segment, { last_n: lastN })
  }

  unsubscribe(topic: string): void {
    const segment = this.segments.get(topic)
    if (!segment || segment.ackAt === undefined || segment.endAt !== undefined || segment.deleted) return
    segment.endAt = this.checker.now()
    const left = this.leave(segment)
    this.leaving.add(left)
    void left.finally(() => this.leaving.delete(left))
  }

  /** Ends every live segment at the barrier and settles it; resolves once all are settled. */
  async finish(): Promise<void> {
    if (this.cutOff) return
    const endAt = this.checker.now()
    const live = [...this.segments.values()].filter((s) => s.ackAt !== undefined && s.endAt === undefined && !s.deleted)
    for (const segment of live) segment.endAt = endAt
    if (this.barrier === 'ping') await this.ping()
    else {
      await Promise.all([...live.map((segment) => this.caughtUp(segment)), ...this.leaving])
      if (this.cutOff) return
    }
    this.finished = true
    for (const segment of live) {
      this.segments.delete(segment.topic)
      this.checker.settle(segment)
    }
  }

  close(): void {
    this.closedBy ??= 'closed by the soak'
    this.ws.close(1000)
  }

  private attach({ ws, node }: Connection): void {
    this.ws = ws
    ws.on('message', (data) => this.onFrame(JSON.parse(String(data)) as Frame))
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return
      if (!node.killed || this.closedBy !== undefined) return void (this.closedBy ??= `${code} ${String(reason)}`)
      if (this.reconnect) void this.resume(this.reconnect).catch((error: unknown) => this.checker.fail(`${this.name}: resume failed: ${String(error)}`))
      else this.cut()
    })
  }

  private sendSubscribe(segment: Segment, replay: Record<string, number | string>): void {
    const requestId = nextRequestId('sub')
    this.pending.expect(requestId, (reply) => {
      if (reply.type !== 'ack') {
        this.segments.delete(segment.topic)
        this.checker.discard(segment)
        return this.noteError(reply, `subscribe to '${segment.topic}'`)
      }
      const ack: SubscribeAck = reply
      if (segment.ackAt === undefined) {
        segment.ackAt = this.checker.now()
        segment.epoch = ack.epoch
        segment.head = ack.seq ?? 0
      } else if (ack.recovered === true) this.tally.resumesRecovered++
      else this.checker.fail(`${this.name}: resuming '${segment.topic}' from seq ${String(replay.since_seq)} was not recovered: ${JSON.stringify(reply).slice(0, 200)}`)
    })
    this.send({ type: 'subscribe', topic: segment.topic, ...replay, request_id: requestId })
  }

  /** Waits until the segment has caught up, then unsubscribes and settles it. */
  private async leave(segment: Segment): Promise<void> {
    if (this.barrier === 'catch-up') await this.caughtUp(segment)
    if (this.cutOff) return
    const requestId = nextRequestId('unsub')
    const answered = new Promise<void>((resolve) => {
      this.pending.expect(requestId, (reply) => {
        this.segments.delete(segment.topic)
        if (reply.type === 'ack') this.checker.settle(segment)
        else this.noteError(reply, `unsubscribe from '${segment.topic}'`)
        resolve()
      }, resolve) // Its node died with the unsubscribe in flight: resuming or cutting settles the segment.
    })
    this.send({ type: 'unsubscribe', topic: segment.topic, request_id: requestId })
    if (!(await settlesWithin(answered, DEADLINE_MS))) this.checker.fail(`${this.name}: no answer to unsubscribe from '${segment.topic}' within ${DEADLINE_MS} ms`)
  }

  /** Resolves once the segment holds every seq it requires, or after the deadline (the settle then reports what is missing). */
  private async caughtUp(segment: Segment): Promise<void> {
    if (segment.caughtUp) return
    const arrived = new Promise<void>((resolve) => this.catchUps.set(segment, resolve))
    await settlesWithin(arrived, DEADLINE_MS)
    this.catchUps.delete(segment)
  }

  private async ping(): Promise<void> {
    const requestId = nextRequestId('barrier')
    const ponged = new Promise<void>((resolve) => this.pending.expect(requestId, () => resolve()))
    this.send({ type: 'ping', request_id: requestId })
    if (!(await settlesWithin(ponged, DEADLINE_MS))) throw new Error(`${this.name}: no pong within ${DEADLINE_MS} ms`)
  }

  /**
   * Its node is gone: on another node, every live subscription resumes from
   * its last seq, so the segment goes on as one and must stay one apart. A
   * subscribe that was in flight is sent again; a server without epochs
   * cannot resume, so those segments are cut and subscribed afresh.
   */
  private async resume(reconnect: Connector): Promise<void> {
    this.pending.clear()
    this.attach(await reconnect())
    this.tally.reconnects++
    for (const segment of [...this.segments.values()]) {
      if (segment.endAt !== undefined) {
        this.segments.delete(segment.topic)
        if (segment.caughtUp) this.checker.settle(segment)
        else this.cutSegment(segment)
      } else if (segment.ackAt === undefined) {
        this.sendSubscribe(segment, { last_n: 0 })
      } else if (segment.epoch === undefined) {
        this.cutSegment(segment)
        this.subscribe(segment.topic, 0)
      } else {
        this.tally.resumes++
        this.sendSubscribe(segment, { since_seq: segment.resumeSeq, epoch: segment.epoch })
      }
    }
  }

  /** Its node is gone and it does not resume: only what arrived is judged. */
  private cut(): void {
    this.cutOff = true
    this.pending.clear()
    for (const segment of this.segments.values()) this.cutSegment(segment)
    this.segments.clear()
    for (const resolve of this.catchUps.values()) resolve()
  }

  private cutSegment(segment: Segment): void {
    this.segments.delete(segment.topic)
    this.checker.cut(segment)
    this.tally.subscriptionsCut++
  }

  private send(message: object): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message))
  }

  private onFrame(frame: Frame): void {
    if (this.finished || this.cutOff || this.pending.settle(frame)) return
    const segment = frame.topic === undefined ? undefined : this.segments.get(frame.topic)
    if (frame.type === 'event' && segment) {
      this.checker.event(segment, frame.seq ?? 0, frame.message?.id ?? '')
      if (segment.caughtUp) this.catchUps.get(segment)?.()
      return
    }
    if (frame.type === 'info' && frame.msg === 'topic_deleted' && segment) {
      segment.deleted = true
      this.segments.delete(segment.topic)
      this.catchUps.get(segment)?.()
      return
    }
    if (frame.type === 'error') return this.noteError(frame, 'an unsolicited error')
    this.checker.fail(`${this.name}: unexpected frame ${JSON.stringify(frame).slice(0, 200)}`)
  }

  private noteError(frame: Frame, what: string): void {
    const code = frame.error?.code
    if (code === 'INTERNAL') this.tally.internalErrors++
    if (code === 'TOPIC_NOT_FOUND') return void this.tally.refusedForDeletedTopic++
    this.checker.fail(`${this.name}: ${what} answered ${JSON.stringify(frame).slice(0, 200)}`)
  }
}

/**
 * A publisher with a bounded number of publishes in flight; every ack is
 * reported to the checker. When its node is killed, what was in flight is
 * unanswered (stored or not: a client cannot tell) and it carries on from
 * another node (`reconnect`).
 */
export class Publisher {
  private pending = new Pending()
  private ws: WebSocket

  constructor(
    readonly name: string,
    connection: Connection,
    private readonly checker: DeliveryChecker,
    private readonly tally: Tally,
    private readonly window: number,
    private readonly reconnect?: Connector,
  ) {
    this.ws = connection.ws
    this.attach(connection)
  }

  /** Publishes acknowledged so far. */
  acked = 0

  get inFlight(): number {
    return this.pending.size
  }

  /** False when the window is full or the socket is gone. */
  publish(topic: string, payload: unknown): boolean {
    if (this.pending.size >= this.window || this.ws.readyState !== WebSocket.OPEN) return false
    const requestId = nextRequestId(this.name)
    const sentAt = this.checker.now()
    this.pending.expect(requestId, (reply) => {
      if (reply.type === 'ack') {
        this.acked++
        return this.checker.acked(topic, reply.seq ?? 0, reply.message_id ?? '', sentAt)
      }
      if (reply.error?.code === 'INTERNAL') this.tally.internalErrors++
      if (reply.error?.code === 'TOPIC_NOT_FOUND') return void this.tally.refusedForDeletedTopic++
      this.checker.fail(`${this.name}: publish to '${topic}' answered ${JSON.stringify(reply).slice(0, 200)}`)
    })
    this.ws.send(JSON.stringify({ type: 'publish', topic, request_id: requestId, message: { payload } }))
    return true
  }

  close(): void {
    this.ws.close(1000)
  }

  private attach({ ws, node }: Connection): void {
    this.ws = ws
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame
      if (!this.pending.settle(frame)) this.checker.fail(`${this.name}: unexpected frame ${String(data).slice(0, 200)}`)
    })
    ws.on('close', () => {
      if (ws !== this.ws || !node.killed || !this.reconnect) return
      this.tally.publishesUnanswered += this.pending.clear()
      this.reconnect().then((connection) => {
        this.attach(connection)
        this.tally.reconnects++
      }, (error: unknown) => this.checker.fail(`${this.name}: could not reconnect: ${String(error)}`))
    })
  }
}
