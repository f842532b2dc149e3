import type { Duplex } from 'node:stream'
import type { RawData, WebSocket } from 'ws'
import { isExpired, may, type Principal } from '../auth/access.js'
import type { Credential } from '../auth/authenticator.js'
import type { Replay, Subscriber } from '../broker/broker.js'
import { isPromise, type Engine, type Maybe, type PublishAnswer, type PublishReceiver } from '../broker/engine.js'
import type { AccessDeps } from '../http/auth.js'
import type { Logger } from '../log.js'
import {
  encodeAck, encodeError, encodeInfo, encodePong, encodeRefreshAck, fail, parseClientMessage, toWireCode,
  type ClientMessage, type Failure, type Publish, type Refresh, type Result, type Subscribe, type Unsubscribe,
} from '../protocol.js'
import type { FlushBatch, Flushable } from './flush-batch.js'
import { writeJoined } from './joined-write.js'

export type GatewayCounters = {
  connectionsAccepted: number
  /** Upgrades answered with an HTTP error instead of a WebSocket (no key, wrong path, shutting down). */
  connectionsRefused: number
  slowConsumers: number
  heartbeatTerminations: number
  badRequests: number
  internalErrors: number
}

export type ConnectionDeps = {
  broker: Engine
  log: Logger
  maxBufferedBytes: number
  batch: FlushBatch
  counters: GatewayCounters
  access: AccessDeps
  onClose(connection: Connection): void
}

/** Who opened the connection, and with what: kept to re-check it when AUTH_FILE is reloaded. */
export type ConnectionAuth = { principal: Principal; credential: Credential | undefined }

/** The close code of a connection whose credential expired or no longer holds. */
export const CLOSE_UNAUTHORIZED = 4401

/** setTimeout's longest delay; a later expiry is reached in steps, never by an overflowed (immediate) timer. */
const MAX_TIMER_MS = 2_147_483_647

/**
 * Most bytes a connection holds before writing through. A burst within one
 * turn then reaches the kernel in large writes instead of piling up in user
 * space, where it would count against MAX_BUFFERED_BYTES for a healthy client.
 */
const HELD_LIMIT_BYTES = 64 * 1024

/** How long a slow consumer's close handshake may take before the socket is destroyed. */
const SLOW_CLOSE_GRACE_MS = 1_000

const INTERNAL: Failure = { code: 'INTERNAL', message: 'the server failed to handle this message; the error has been logged' }
const BINARY: Failure = { code: 'BAD_REQUEST', message: 'binary frames are not accepted: send one JSON object per text frame' }

/**
 * A publish waiting for its answer from the engine, and then for its turn to
 * be acked: only what the ack needs, not the message and its payload.
 */
class AwaitedPublish implements PublishReceiver {
  came = false
  result: Result<PublishAnswer> | undefined
  error: unknown

  constructor(readonly requestId: string | undefined, readonly topic: string, private readonly onCame: () => void) {}

  answered(result: Result<PublishAnswer>): void {
    this.came = true
    this.result = result
    this.onCame()
  }

  failed(error: unknown): void {
    this.came = true
    this.error = error
    this.onCame()
  }
}

/** With its default binaryType, 'nodebuffer', ws hands over every message as one Buffer. */
const textOf = (data: RawData): string => (data as Buffer).toString('utf8')

/** The property through which a socket's listeners reach their Connection. */
const OWNER = Symbol('connection')
type OwnedSocket = WebSocket & { [OWNER]: Connection }

/**
 * Numbers the connections of this process. A UUID per connection cost ~450
 * bytes of heap (crypto builds it as a tree of concatenated strings) for an id
 * that only has to tell one connection's log lines from another's.
 */
let connectionsMade = 0

/** One WebSocket client: parses its frames, calls the broker, and is a Subscriber. */
export class Connection implements Subscriber, Flushable {
  readonly id = String(++connectionsMade)
  private state: 'open' | 'slow' | 'ending' | 'closed' = 'open'
  /**
   * The frames of this turn, not yet handed to the socket. They leave joined
   * in one write: cheaper than corking the socket, whose stream keeps a
   * record per write and passes them all to writev.
   */
  private held: Buffer[] = []
  private heldBytes = 0
  private answeredPing = true
  private killTimer: NodeJS.Timeout | undefined
  private childLog: Logger | undefined
  private expiryTimer: NodeJS.Timeout | undefined
  /**
   * The answer still waiting on the engine (cluster mode), if any. Answers go
   * out in request order: a later request waits for it, except that a publish
   * behind publishes only is sent to the engine at once and just answered in turn.
   */
  private answering: Promise<void> | undefined
  private answeringPublishesOnly = false
  /**
   * The publishes of such a run, sent to the engine and acked in request
   * order as they are answered: a queue, not a promise chain, because a
   * publisher keeps hundreds of them in flight.
   */
  private publishesAwaited: AwaitedPublish[] = []
  private onAnswerCame: (() => void) | undefined
  /** Ends `answering` when the queue empties, for a request that waits behind the run. */
  private publishRunOver: (() => void) | undefined

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly deps: ConnectionDeps,
    private auth: ConnectionAuth,
  ) {
    this.armExpiry()
    // The same four listener functions serve every socket and find their
    // connection through the socket: four closures per connection cost ~250 bytes.
    ;(ws as OwnedSocket)[OWNER] = this
    ws.on('message', Connection.onSocketMessage)
    ws.on('pong', Connection.onSocketPong)
    ws.on('error', Connection.onSocketError)
    ws.on('close', Connection.onSocketClose)
  }

  private static onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    (this as OwnedSocket)[OWNER].onMessage(data, isBinary)
  }

  private static onSocketPong(this: WebSocket): void {
    (this as OwnedSocket)[OWNER].answeredPing = true
  }

  private static onSocketError(this: WebSocket, error: Error): void {
    (this as OwnedSocket)[OWNER].log.debug('websocket error', { error: error.message })
  }

  private static onSocketClose(this: WebSocket, code: number): void {
    (this as OwnedSocket)[OWNER].onClose(code)
  }

  /** This connection's logger, made on first use: most connections never log, and each costs ~0.5 KB. */
  private get log(): Logger {
    return (this.childLog ??= this.deps.log.child({ connection: this.id }))
  }

  /**
   * Hands one frame to the socket unless its backlog would pass the limit. A
   * frame always goes to an empty queue, so one event larger than the limit
   * is not mistaken for a slow reader.
   */
  send(frame: Buffer): void {
    if (this.state !== 'open' || this.ws.readyState !== this.ws.OPEN) return
    // A late timer never extends access: an expired connection gets nothing more.
    if (this.auth.principal.expiresAt !== undefined && this.hasExpired()) return this.expire()
    if (this.ws.bufferedAmount + this.heldBytes + frame.length > this.deps.maxBufferedBytes) {
      // Count only what the kernel refused, not what this turn still holds.
      this.flush()
      const queued = this.ws.bufferedAmount
      if (queued > 0 && queued + frame.length > this.deps.maxBufferedBytes) return this.dropAsSlow()
    }
    this.write(frame)
  }

  /** Writes what this turn held, behind anything ws wrote before (ws writes synchronously without compression). */
  flush(): void {
    const held = this.held
    if (held.length === 0) return
    const bytes = this.heldBytes
    this.held = []
    this.heldBytes = 0
    // After a close frame nothing more may be sent; what was held is dropped with the connection.
    if (this.ws.readyState !== this.ws.OPEN) return
    writeJoined(this.socket, held, bytes)
  }

  /** Called once per heartbeat interval; false when the peer missed the last ping and was terminated. */
  heartbeat(): boolean {
    if (!this.answeredPing) {
      this.ws.terminate()
      return false
    }
    this.answeredPing = false
    this.ws.ping()
    return true
  }

  /** What this turn held goes before the close frame, so a clean shutdown delivers it. */
  close(code: number, reason: string): void {
    this.flush()
    this.ws.close(code, reason)
  }

  terminate(): void {
    this.ws.terminate()
  }

  private write(frame: Buffer): void {
    if (this.held.length === 0) this.deps.batch.add(this)
    this.held.push(frame)
    this.heldBytes += frame.length
    if (this.heldBytes >= HELD_LIMIT_BYTES) this.flush()
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.state !== 'open') return
    let requestId: string | undefined
    try {
      if (this.hasExpired()) return this.expire()
      if (isBinary) return this.inTurn(() => this.reject(undefined, BINARY))
      const parsed = parseClientMessage(textOf(data))
      if (!parsed.ok) return this.inTurn(() => this.reject(parsed.requestId, parsed.error))
      const msg = parsed.value
      requestId = msg.requestId
      // Permission comes before the engine sees the topic; the refusal is answered in turn.
      const forbidden = this.forbidden(msg)
      if (forbidden !== undefined) return this.inTurn(() => this.reject(msg.requestId, forbidden))
      if (msg.type === 'publish' && (this.answering === undefined || this.answeringPublishesOnly)) return this.publish(msg)
      if (this.answering === undefined) return this.track(this.dispatch(msg), msg)
      this.inTurn(() => this.dispatch(msg), msg)
    } catch (error) {
      this.failed(error, requestId)
    }
  }

  /** Sends the publish to the engine at once; acks it now when nothing is pending, else in request order. */
  private publish(msg: Publish): void {
    const { broker } = this.deps
    if (broker.publishTo !== undefined) {
      const awaited = this.awaitAnswer(msg)
      try {
        broker.publishTo(msg.topic, msg.message, awaited)
      } catch (error) {
        // Answered in its turn, so that the acks queued behind it still go out.
        awaited.failed(error)
      }
      return
    }
    const result = broker.publish(msg.topic, msg.message)
    if (!isPromise(result) && this.answering === undefined) return this.ackPublish(msg, result)
    const awaited = this.awaitAnswer(msg)
    if (isPromise(result)) result.then((r) => awaited.answered(r), (error: unknown) => awaited.failed(error))
    else awaited.answered(result)
  }

  /** Queues a publish's ack behind the answers pending, starting a run of publishes when none is. */
  private awaitAnswer(msg: Publish): AwaitedPublish {
    if (this.answering === undefined) {
      this.answering = new Promise<void>((resolve) => { this.publishRunOver = resolve })
      this.answeringPublishesOnly = true
    }
    // Made on the first publish that has to wait (in cluster mode), so that other connections do without it.
    this.onAnswerCame ??= () => this.sendAwaited()
    const awaited = new AwaitedPublish(msg.requestId, msg.topic, this.onAnswerCame)
    this.publishesAwaited.push(awaited)
    return awaited
  }

  /** Sends the answers at the head of the queue that have come; ends the run when none is left. */
  private sendAwaited(): void {
    const queue = this.publishesAwaited
    let sent = 0
    for (let next = queue[0]; next?.came === true; next = queue[++sent]) {
      try {
        if (next.result === undefined) this.failed(next.error, next.requestId)
        else this.ackPublish(next, next.result)
      } catch (error) {
        this.failed(error, undefined)
      }
    }
    if (sent > 0) queue.splice(0, sent)
    if (queue.length > 0) return
    const runOver = this.publishRunOver
    this.publishRunOver = undefined
    if (this.answeringPublishesOnly) this.answering = undefined
    runOver?.()
  }

  private failed(error: unknown, requestId: string | undefined): void {
    this.deps.counters.internalErrors++
    this.log.error('message handling failed', { error })
    // Date.now, not the injected clock: the failure may be the clock's own.
    this.send(encodeError(requestId, INTERNAL, Date.now()))
  }

  /** Runs `answer` now when nothing is pending, else once the pending answer is out. */
  private inTurn(answer: () => Maybe<void>, msg?: ClientMessage): void {
    const before = this.answering
    if (before === undefined) return this.track(answer(), msg)
    this.track(before.then(answer), msg)
  }

  private track(answer: Maybe<void>, msg: ClientMessage | undefined): void {
    if (!isPromise(answer)) return
    const publishesOnly = msg?.type === 'publish' && (this.answering === undefined || this.answeringPublishesOnly)
    const tracked: Promise<void> = answer.catch((error: unknown) => this.failed(error, msg?.requestId)).finally(() => {
      if (this.answering === tracked) this.answering = undefined
    })
    this.answering = tracked
    this.answeringPublishesOnly = publishesOnly
  }

  // The engine's answer is used at once when it has one (the in-memory broker always does), so that
  // path allocates nothing more; a promise is answered when it settles.

  private answerSubscribe(msg: Subscribe, result: Maybe<Result<Replay>>): Maybe<void> {
    return isPromise(result) ? result.then((r) => this.ackSubscribe(msg, r)) : this.ackSubscribe(msg, result)
  }

  private answerUnsubscribe(msg: Unsubscribe, result: Maybe<Result<{ name: string }>>): Maybe<void> {
    return isPromise(result) ? result.then((r) => this.ackUnsubscribe(msg, r)) : this.ackUnsubscribe(msg, result)
  }

  private answerPublish(msg: Publish, result: Maybe<Result<PublishAnswer>>): Maybe<void> {
    return isPromise(result) ? result.then((r) => this.ackPublish(msg, r)) : this.ackPublish(msg, result)
  }

  private dispatch(msg: ClientMessage): Maybe<void> {
    switch (msg.type) {
      case 'subscribe': return this.answerSubscribe(msg, this.deps.broker.subscribe(msg.topic, this, msg))
      case 'unsubscribe': return this.answerUnsubscribe(msg, this.deps.broker.unsubscribe(msg.topic, this))
      case 'publish': return this.answerPublish(msg, this.deps.broker.publish(msg.topic, msg.message))
      case 'ping': return this.send(encodePong(msg.requestId, this.deps.broker.now()))
      case 'refresh': return this.refresh(msg)
    }
  }

  private ackSubscribe(msg: Subscribe, subscribed: Result<Replay>): void {
    if (!subscribed.ok) return this.reject(msg.requestId, subscribed.error)
    // Closed while the engine was subscribing: the subscription it made is let go.
    if (this.state !== 'open') return void this.deps.broker.unsubscribe(msg.topic, this)
    const { epoch, seq, events, resume } = subscribed.value
    const ack = { requestId: msg.requestId, topic: msg.topic, epoch, seq, replayed: events.length, ...resume }
    this.send(encodeAck(ack, this.deps.broker.now()))
    // The replay answers this request and is bounded by the history size, so it
    // is written whole; the queue limit applies again from the next live event.
    for (const frame of events) this.write(frame)
  }

  private ackPublish(msg: Pick<Publish, 'requestId' | 'topic'>, published: Result<PublishAnswer>): void {
    if (!published.ok) return this.reject(msg.requestId, published.error)
    const { id, seq, epoch } = published.value
    this.send(encodeAck({ requestId: msg.requestId, topic: msg.topic, messageId: id, seq, epoch }, this.deps.broker.now()))
  }

  private ackUnsubscribe(msg: Unsubscribe, unsubscribed: Result<{ name: string }>): void {
    if (!unsubscribed.ok) return this.reject(msg.requestId, unsubscribed.error)
    this.send(encodeAck({ requestId: msg.requestId, topic: msg.topic }, this.deps.broker.now()))
  }

  private reject(requestId: string | undefined, error: Failure): void {
    if (toWireCode(error.code) === 'BAD_REQUEST') this.deps.counters.badRequests++
    this.send(encodeError(requestId, error, this.deps.broker.now()))
  }

  /** Stops deliveries at once, frees the subscriptions, then closes 1008 with a deadline. */
  private dropAsSlow(): void {
    this.state = 'slow'
    const topics = this.deps.broker.unsubscribeAll(this)
    this.deps.counters.slowConsumers++
    const limit = this.deps.maxBufferedBytes
    this.log.warn('slow consumer disconnected', { topics, buffered_bytes: this.ws.bufferedAmount, limit })
    const failure = fail('SLOW_CONSUMER', `more than ${limit} bytes were queued for this connection; it receives no further events`)
    this.closeWith(failure.error, 1008)
  }

  /** Sends the failure as the last frame, closes with `code` and the failure's code, destroys the socket if that stalls. */
  private closeWith(failure: Failure, code: number): void {
    this.write(encodeError(undefined, failure, this.deps.broker.now()))
    this.flush()
    this.ws.close(code, failure.code)
    this.killTimer = setTimeout(() => this.ws.terminate(), SLOW_CLOSE_GRACE_MS)
  }

  // ---- access control: every operation is checked, and a token's expiry ends the connection ----

  /** The FORBIDDEN failure for a message this principal may not send; unsubscribing needs subscribe. */
  private forbidden(msg: ClientMessage): Failure | undefined {
    if (msg.type === 'ping' || msg.type === 'refresh') return undefined
    const action = msg.type === 'publish' ? 'publish' : 'subscribe'
    if (may(this.auth.principal, action, msg.topic)) return undefined
    this.deps.access.refusals.forbidden++
    return { code: 'FORBIDDEN', message: `this credential does not allow ${action} on topic '${msg.topic}'` }
  }

  private hasExpired(): boolean {
    return isExpired(this.auth.principal, this.deps.access.now())
  }

  /**
   * Fires at expiry, or earlier for an expiry beyond setTimeout's range; a
   * timer that fires late is backed by the check on every operation.
   */
  private armExpiry(): void {
    clearTimeout(this.expiryTimer)
    const { expiresAt } = this.auth.principal
    if (expiresAt === undefined) return
    const delay = Math.min(Math.max(0, expiresAt - this.deps.access.now()), MAX_TIMER_MS)
    this.expiryTimer = setTimeout(() => (this.hasExpired() ? this.expire() : this.armExpiry()), delay)
  }

  private expire(): void {
    if (this.state !== 'open') return
    this.deps.access.refusals.token_expired++
    this.end({ code: 'TOKEN_EXPIRED', message: 'the token has expired: open a new connection with a fresh token, or send refresh before it expires' })
  }

  /** Ends an open connection whose credential no longer holds: error frame, then close 4401. */
  private end(failure: Failure): void {
    if (this.state !== 'open') return
    this.state = 'ending'
    clearTimeout(this.expiryTimer)
    const topics = this.deps.broker.unsubscribeAll(this)
    this.log.info('connection closed by access control', { code: failure.code, principal: this.auth.principal.id, topics })
    this.closeWith(failure, CLOSE_UNAUTHORIZED)
  }

  /** A new token for this connection: same subject required; what it no longer allows ends. */
  private async refresh(msg: Refresh): Promise<void> {
    if (this.auth.principal.expiresAt === undefined) {
      return this.reject(msg.requestId, { code: 'BAD_REQUEST', message: 'refresh applies only to a connection opened with a token' })
    }
    const credential: Credential = { value: msg.token, carrier: 'bearer' }
    const checked = await this.deps.access.authenticator.authenticate(credential, this.deps.access.now())
    if (this.state !== 'open') return
    if (!checked.ok || checked.principal.expiresAt === undefined || checked.principal.subject !== this.auth.principal.subject) {
      this.deps.access.refusals.invalid_credential++
      const why = checked.ok ? 'the refresh token is for another subject' : `the refresh token was refused: ${checked.message}`
      return this.end({ code: 'UNAUTHORIZED', message: why })
    }
    this.adopt({ principal: checked.principal, credential })
    this.send(encodeRefreshAck(msg.requestId, this.deps.broker.now()))
  }

  /**
   * Checks the connection's credential again under a reloaded AUTH_FILE:
   * a credential that no longer opens /ws ends it; lost grants end their subscriptions.
   */
  async recheck(): Promise<void> {
    const checked = await this.deps.access.authenticator.authenticate(this.auth.credential, this.deps.access.now())
    if (this.state !== 'open') return
    if (!checked.ok || !may(checked.principal, 'connect')) {
      this.deps.access.refusals.invalid_credential++
      return this.end({ code: 'UNAUTHORIZED', message: 'the credential of this connection is no longer accepted' })
    }
    this.adopt({ principal: checked.principal, credential: this.auth.credential })
  }

  private adopt(auth: ConnectionAuth): void {
    this.auth = auth
    this.armExpiry()
    for (const topic of this.deps.broker.subscribedTopics(this)) {
      if (may(auth.principal, 'subscribe', topic)) continue
      // The engine lets go of the subscription at once; a cluster engine's count update may follow later.
      const left = this.deps.broker.unsubscribe(topic, this)
      if (isPromise(left)) left.catch((error: unknown) => this.failed(error, undefined))
      this.send(encodeInfo(topic, 'unsubscribed', this.deps.broker.now(), 'FORBIDDEN'))
    }
  }

  private onClose(code: number): void {
    this.state = 'closed'
    clearTimeout(this.killTimer)
    clearTimeout(this.expiryTimer)
    const topics = this.deps.broker.unsubscribeAll(this)
    this.log.debug('connection closed', { code, topics })
    this.deps.onClose(this)
  }
}
