import { WebSocket } from 'ws'
import type { Frame } from '../helpers.js'
import type { DeliveryChecker, Segment } from './checker.js'

/** The soak's clients: subscribers that check what they receive, and publishers that record what was acknowledged. */

/** Counts shared by every client of a run. */
export type Tally = { internalErrors: number; refusedForDeletedTopic: number }

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
  private readonly waiting = new Map<string, (frame: Frame) => void>()

  expect(requestId: string, onReply: (frame: Frame) => void): void {
    this.waiting.set(requestId, onReply)
  }

  /** True when the frame answered a request. */
  settle(frame: Frame): boolean {
    const onReply = frame.request_id === undefined ? undefined : this.waiting.get(frame.request_id)
    if (!onReply) return false
    this.waiting.delete(frame.request_id as string)
    onReply(frame)
    return true
  }

  get size(): number {
    return this.waiting.size
  }
}

/**
 * A healthy subscriber: every event goes to the segment of its topic, and
 * every segment is settled once its end is confirmed by the server.
 */
export class CheckedSubscriber {
  private readonly segments = new Map<string, Segment>()
  private readonly pending = new Pending()
  /** Set when the server closed or dropped this healthy client: a failure unless the run is stopping. */
  closedBy: string | undefined
  /** After the final barrier nothing more is checked: events keep coming until the socket closes. */
  private finished = false

  constructor(
    readonly name: string,
    private readonly ws: WebSocket,
    private readonly checker: DeliveryChecker,
    private readonly tally: Tally,
    private readonly historySize: number,
  ) {
    ws.on('message', (data) => this.onFrame(JSON.parse(String(data)) as Frame))
    ws.on('close', (code, reason) => { this.closedBy ??= `${code} ${String(reason)}` })
  }

  /** Topics this client follows, or has a subscribe or unsubscribe in flight for. */
  get topics(): string[] {
    return [...this.segments.keys()]
  }

  subscribe(topic: string, lastN: number): void {
    if (this.segments.has(topic)) return
    const requestId = nextRequestId('sub')
    const segment = this.checker.open(topic, this.name, lastN, this.historySize)
    this.segments.set(topic, segment)
    this.pending.expect(requestId, (reply) => {
      if (reply.type === 'ack') return void (segment.ackAt = this.checker.now())
      this.segments.delete(topic)
      this.checker.discard(segment)
      this.noteError(reply, `subscribe to '${topic}'`)
    })
    this.send({ type: 'subscribe', topic, last_n: lastN, request_id: requestId })
  }

  unsubscribe(topic: string): void {
    const segment = this.segments.get(topic)
    if (!segment || segment.ackAt === undefined || segment.endAt !== undefined || segment.deleted) return
    const requestId = nextRequestId('unsub')
    segment.endAt = this.checker.now()
    this.pending.expect(requestId, (reply) => {
      this.segments.delete(topic)
      if (reply.type === 'ack') this.checker.settle(segment)
      else this.noteError(reply, `unsubscribe from '${topic}'`)
    })
    this.send({ type: 'unsubscribe', topic, request_id: requestId })
  }

  /** Sends a ping; once its pong is back every event published before it has arrived, so every live segment is settled. */
  finish(): Promise<void> {
    const requestId = nextRequestId('barrier')
    const endAt = this.checker.now()
    const live = [...this.segments.values()].filter((s) => s.ackAt !== undefined && s.endAt === undefined && !s.deleted)
    for (const segment of live) segment.endAt = endAt
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no pong within ${DEADLINE_MS} ms`)), DEADLINE_MS)
      this.pending.expect(requestId, () => {
        clearTimeout(timer)
        this.finished = true
        for (const segment of live) {
          this.segments.delete(segment.topic)
          this.checker.settle(segment)
        }
        resolve()
      })
      this.send({ type: 'ping', request_id: requestId })
    })
  }

  close(): void {
    this.closedBy ??= 'closed by the soak'
    this.ws.close(1000)
  }

  private send(message: object): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message))
  }

  private onFrame(frame: Frame): void {
    if (this.finished || this.pending.settle(frame)) return
    const segment = frame.topic === undefined ? undefined : this.segments.get(frame.topic)
    if (frame.type === 'event' && segment) return this.checker.event(segment, frame.seq ?? 0, frame.message?.id ?? '')
    if (frame.type === 'info' && frame.msg === 'topic_deleted' && segment) {
      segment.deleted = true
      this.segments.delete(segment.topic)
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

/** A publisher with a bounded number of publishes in flight; every ack is reported to the checker. */
export class Publisher {
  private readonly pending = new Pending()

  constructor(
    readonly name: string,
    private readonly ws: WebSocket,
    private readonly checker: DeliveryChecker,
    private readonly tally: Tally,
    private readonly window: number,
  ) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame
      if (!this.pending.settle(frame)) this.checker.fail(`${name}: unexpected frame ${String(data).slice(0, 200)}`)
    })
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
}
