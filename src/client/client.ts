import { backoffDelay } from './backoff.js'
import { Emitter } from './emitter.js'
import { PubSubError } from './errors.js'
import { positionAfterAck, resetReasonOf } from './position.js'
import {
  encodeRequest, isSeq, parseFrame, toPublishAck, toSubscribeAck,
  type AckFrame, type EventFrame, type InfoFrame, type Position, type PublishAck, type Request,
} from './protocol.js'
import { placeCredential, type Credential, type CredentialCarrier, type Dial, type SocketLike, type WebSocketConstructor } from './socket.js'
import { TopicSubscription, type PubSubEvent, type Subscription } from './subscription.js'
import { expiryOf, refreshDelay } from './token.js'

export type ClientState = 'connecting' | 'connected' | 'disconnected' | 'closed'

/** Payload types by topic name, declared by the app; `orders.${string}` keys cover a family of topics. */
export type TopicMap = Record<string, unknown>

export type ClientOptions = {
  /** An API key (section "Authentication" of the server's docs); or give `token`, not both. */
  apiKey?: string
  /** A JWT, or a function giving one, called again before every connect (short-lived tokens). */
  token?: string | (() => string | Promise<string>)
  /** Where the credential travels on the upgrade: 'protocol' (default), 'query', or 'header' (Node only). */
  credentialIn?: CredentialCarrier
  /** A standard WebSocket constructor to use instead of the global one (or ws in Node). */
  WebSocket?: WebSocketConstructor
  /** Reconnect delays: the first retry waits up to minDelayMs, each failure doubles that, up to maxDelayMs. */
  backoff?: { minDelayMs?: number; maxDelayMs?: number }
  /** A connection open this long has proved healthy: the next retry starts from the smallest delay again. */
  healthyAfterMs?: number
  /** After this long without a frame from the server the client sends a ping... */
  pingIntervalMs?: number
  /** ...and drops the connection (then reconnects) when nothing arrives within this. */
  pingTimeoutMs?: number
  /** How long a publish (or subscribe) waits for its answer, including for a connection to send it on. */
  requestTimeoutMs?: number
  /** How long opening one connection may take. */
  connectTimeoutMs?: number
}

export type SubscribeOptions = {
  /** Events to replay from history on a fresh subscribe, and after a resume that failed. */
  lastN?: number
  /** A position saved earlier: resume right after it. */
  since?: Position
}

export type PublishOptions = { id?: string }

export type ClientEvents = {
  state: ClientState
  /** A connection failed or dropped (the client retries by itself), or the server reported an error outside a request. */
  error: Error
}

const DEFAULTS = {
  minDelayMs: 500,
  maxDelayMs: 20_000,
  healthyAfterMs: 5_000,
  pingIntervalMs: 25_000,
  pingTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
}
type Settings = typeof DEFAULTS

const OPEN = 1

const got = (value: unknown): string => `got \`${typeof value === 'string' ? value : JSON.stringify(value)}\``

function resolveSettings(options: ClientOptions): Settings {
  const given: Partial<Settings> = { ...options.backoff, ...options }
  const settings = { ...DEFAULTS }
  for (const name of Object.keys(DEFAULTS) as (keyof Settings)[]) {
    const value = given[name] ?? DEFAULTS[name]
    if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`Expected \`${name}\` to be an integer >= 1, ${got(value)}`)
    settings[name] = value
  }
  if (settings.maxDelayMs < settings.minDelayMs) throw new TypeError(`Expected \`maxDelayMs\` to be >= minDelayMs, ${got(settings.maxDelayMs)}`)
  return settings
}

function checkSubscribeOptions({ lastN, since }: SubscribeOptions): void {
  if (lastN !== undefined && !isSeq(lastN)) throw new TypeError(`Expected \`lastN\` to be an integer >= 0, ${got(lastN)}`)
  if (since !== undefined && (typeof since.epoch !== 'string' || !isSeq(since.seq))) {
    throw new TypeError(`Expected \`since\` to be a position { epoch, seq }, ${got(since)}`)
  }
}

type Settle = (result: AckFrame | PubSubError) => void
type Pending = { text: string; sent: boolean; timer: ReturnType<typeof setTimeout>; settle: Settle }

/**
 * One logical connection to the server, kept open across reconnects: it
 * resubscribes every subscription from its position, and turns requests into
 * answers with timeouts. Frames from a socket it has given up on are ignored.
 */
export class PubSubClient<M extends TopicMap = TopicMap> extends Emitter<ClientEvents> {
  private current: ClientState = 'connecting'
  private socket: SocketLike | undefined
  /** Failed connects since the last healthy connection: sets the backoff. */
  private attempt = 0
  private lastHeard = 0
  private requests = 0
  private readonly settings: Settings
  private readonly subscriptions = new Map<string, TopicSubscription>()
  private readonly pending = new Map<string, Pending>()
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()

  constructor(private readonly url: string, private readonly options: ClientOptions, private readonly dial: Dial) {
    super()
    if (!/^wss?:\/\/./.test(url)) throw new TypeError(`Expected \`url\` to be a ws:// or wss:// URL, ${got(url)}`)
    if (options.apiKey !== undefined && options.token !== undefined) throw new TypeError('Expected `apiKey` or `token`, got both')
    this.settings = resolveSettings(options)
    void this.connect()
  }

  get state(): ClientState {
    return this.current
  }

  subscribe<K extends keyof M & string>(topic: K, callback: (event: PubSubEvent<M[K]>) => void, options: SubscribeOptions = {}): Subscription {
    if (this.current === 'closed') throw new Error('the client is closed')
    if (this.subscriptions.has(topic)) throw new Error(`already subscribed to '${topic}': unsubscribe that subscription first`)
    checkSubscribeOptions(options)
    const since = options.since && { epoch: options.since.epoch, seq: options.since.seq }
    // The payload type is the app's declaration for this topic: the client relays payloads as the server sends them.
    const deliver = callback as (event: PubSubEvent) => void
    const subscription = new TopicSubscription(topic, deliver, options.lastN, since, (s) => this.leave(s))
    this.subscriptions.set(topic, subscription)
    this.sendSubscribe(subscription)
    return subscription
  }

  /**
   * Sent once, never retried: it rejects with TIMEOUT when no connection or no
   * answer came in time, DISCONNECTED when the connection dropped after sending
   * (the message may or may not be published), or the server's error.
   */
  publish<K extends keyof M & string>(topic: K, payload: M[K], options: PublishOptions = {}): Promise<PublishAck> {
    return new Promise((resolve, reject) => {
      if (this.current === 'closed') return reject(new PubSubError('CLOSED', 'the client is closed'))
      this.request({ type: 'publish', topic, id: options.id, payload }, (result) => {
        if (result instanceof PubSubError) return reject(result)
        const ack = toPublishAck(result)
        if (ack) resolve(ack)
        else reject(new PubSubError('UNSUPPORTED', 'the publish ack lacks message_id, seq or epoch'))
      })
    })
  }

  /** Closes for good: pending requests reject with CLOSED, subscriptions end. */
  close(): void {
    if (this.current === 'closed') return
    this.current = 'closed'
    this.clearTimers()
    const socket = this.socket
    if (socket) {
      this.forget(socket)
      socket.close(1000)
    }
    for (const id of [...this.pending.keys()]) this.settle(id, new PubSubError('CLOSED', 'the client was closed'))
    for (const subscription of this.subscriptions.values()) subscription.end()
    this.subscriptions.clear()
    this.emit('state', 'closed')
  }

  private setState(state: ClientState): void {
    if (state === this.current) return
    this.current = state
    this.emit('state', state)
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      run()
    }, ms)
    this.timers.add(timer)
  }

  private async credential(): Promise<Credential | undefined> {
    const { apiKey, token } = this.options
    if (apiKey !== undefined) return { kind: 'apiKey', value: apiKey }
    if (token === undefined) return undefined
    const value = typeof token === 'function' ? await token() : token
    if (typeof value !== 'string' || value === '') throw new TypeError(`Expected \`token\` to give a non-empty string, ${got(value)}`)
    return { kind: 'token', value }
  }

  /**
   * A connection opened with a token ends when the token does, unless a fresh
   * one is sent first. Only a token function can give a fresh one; without
   * it, or when the refresh fails, the server closes and the client reconnects.
   */
  private scheduleRefresh(socket: SocketLike, token: string): void {
    const expiresAt = expiryOf(token)
    if (typeof this.options.token !== 'function' || expiresAt === undefined) return
    this.later(refreshDelay(expiresAt, Date.now()), () => void this.refresh(socket))
  }

  private async refresh(socket: SocketLike): Promise<void> {
    let fresh: Credential | undefined
    try {
      fresh = await this.credential()
    } catch (error) {
      return this.emit('error', error instanceof Error ? error : new Error(String(error)))
    }
    if (socket !== this.socket || !fresh) return
    const token = fresh.value
    this.request({ type: 'refresh', token }, (result) => {
      if (result instanceof PubSubError) this.emit('error', result)
      else if (socket === this.socket) this.scheduleRefresh(socket, token)
    })
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }

  private async connect(): Promise<void> {
    if (this.current === 'closed') return
    this.setState('connecting')
    let socket: SocketLike
    let credential: Credential | undefined
    try {
      credential = await this.credential()
      const target = placeCredential(this.url, credential, this.options.credentialIn ?? 'protocol')
      if (this.current !== 'connecting') return
      socket = this.dial(target)
    } catch (error) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)))
      return this.retry()
    }
    this.socket = socket
    const { connectTimeoutMs } = this.settings
    this.later(connectTimeoutMs, () => {
      if (socket.readyState !== OPEN) this.drop(socket, new PubSubError('TIMEOUT', `no connection within ${connectTimeoutMs} ms`))
    })
    socket.onopen = () => this.opened(socket, credential)
    socket.onmessage = (event) => this.receive(socket, event.data)
    socket.onclose = (event) => this.drop(socket, new PubSubError('DISCONNECTED', `the connection closed (${event.code} ${event.reason})`))
    socket.onerror = (event: unknown) => this.drop(socket, event instanceof Error ? event : new PubSubError('DISCONNECTED', describe(event)))
  }

  private retry(): void {
    if (this.current === 'closed') return
    this.setState('disconnected')
    this.later(backoffDelay(this.attempt++, this.settings), () => void this.connect())
  }

  private opened(socket: SocketLike, credential: Credential | undefined): void {
    if (socket !== this.socket) return
    this.lastHeard = Date.now()
    this.later(this.settings.healthyAfterMs, () => {
      if (socket === this.socket) this.attempt = 0
    })
    this.watch(socket)
    if (credential?.kind === 'token') this.scheduleRefresh(socket, credential.value)
    for (const subscription of this.subscriptions.values()) this.sendSubscribe(subscription)
    for (const pending of this.pending.values()) if (!pending.sent) this.transmit(socket, pending)
    this.setState('connected')
  }

  /** Stops listening to a socket given up on; its late frames and events go nowhere. */
  private forget(socket: SocketLike): void {
    socket.onopen = socket.onmessage = socket.onclose = null
    // ws reports a late failure as an 'error' event, which throws when nobody listens.
    socket.onerror = () => {}
    this.socket = undefined
  }

  private drop(socket: SocketLike, why: Error): void {
    if (socket !== this.socket) return
    this.forget(socket)
    this.clearTimers()
    // Not a close handshake: the server may be frozen and never answer one.
    if (socket.terminate) socket.terminate()
    else socket.close()
    for (const subscription of this.subscriptions.values()) {
      subscription.requestId = undefined
      subscription.setState('subscribing')
    }
    for (const [id, pending] of this.pending) {
      if (pending.sent) this.settle(id, new PubSubError('DISCONNECTED', `the connection dropped before the answer: ${why.message}`))
    }
    this.emit('error', why)
    this.retry()
  }

  /**
   * Pings only when the server has been quiet for a whole interval; any frame
   * at all proves it alive. Worst case a frozen server is noticed
   * pingIntervalMs + pingTimeoutMs after its last frame.
   */
  private watch(socket: SocketLike): void {
    const { pingIntervalMs, pingTimeoutMs } = this.settings
    const quiet = Date.now() - this.lastHeard
    if (quiet < pingIntervalMs) return this.later(pingIntervalMs - quiet, () => this.watch(socket))
    const askedAt = Date.now()
    this.sendNow(socket, { type: 'ping' })
    this.later(pingTimeoutMs, () => {
      if (this.lastHeard >= askedAt) this.watch(socket)
      else this.drop(socket, new PubSubError('TIMEOUT', `no answer to a ping within ${pingTimeoutMs} ms`))
    })
  }

  private sendNow(socket: SocketLike, request: Request): void {
    socket.send(encodeRequest(request, `c${++this.requests}`))
  }

  private transmit(socket: SocketLike, pending: Pending): void {
    pending.sent = true
    socket.send(pending.text)
  }

  /** Sends now when connected, else on the next connect; `settle` runs once, synchronously with the answer's frame. */
  private request(request: Request, settle: Settle): string {
    const id = `c${++this.requests}`
    const text = encodeRequest(request, id)
    const { requestTimeoutMs } = this.settings
    const timer = setTimeout(() => this.settle(id, new PubSubError('TIMEOUT', `no answer to ${request.type} within ${requestTimeoutMs} ms`)), requestTimeoutMs)
    const pending: Pending = { text, sent: false, timer, settle }
    this.pending.set(id, pending)
    if (this.socket?.readyState === OPEN) this.transmit(this.socket, pending)
    return id
  }

  private settle(id: string, result: AckFrame | PubSubError): void {
    const pending = this.pending.get(id)
    if (!pending) return
    this.pending.delete(id)
    clearTimeout(pending.timer)
    pending.settle(result)
  }

  private receive(socket: SocketLike, data: unknown): void {
    if (socket !== this.socket) return
    this.lastHeard = Date.now()
    const frame = typeof data === 'string' ? parseFrame(data) : undefined
    if (frame?.type === 'event') this.deliver(frame)
    else if (frame?.type === 'ack') this.settle(frame.requestId, frame)
    else if (frame?.type === 'info') this.inform(frame)
    else if (frame?.type === 'error') {
      const error = new PubSubError(frame.code, frame.message)
      if (frame.requestId === undefined) this.emit('error', error)
      else this.settle(frame.requestId, error)
    }
  }

  private deliver(event: EventFrame): void {
    const subscription = this.subscriptions.get(event.topic)
    if (subscription?.take(event) === 'gap') this.resubscribe(subscription)
  }

  private inform(info: InfoFrame): void {
    const subscription = this.subscriptions.get(info.topic)
    if (!subscription) return
    if (info.msg === 'resync_required') return this.resubscribe(subscription)
    if (info.msg !== 'topic_deleted' && info.msg !== 'unsubscribed') return
    this.subscriptions.delete(info.topic)
    if (info.msg === 'topic_deleted') subscription.end(undefined, 'topic_deleted')
    else subscription.end(new PubSubError(info.reason ?? 'FORBIDDEN', `the server ended the subscription to '${info.topic}'`))
  }

  /** Picks the subscription up again from its position on this connection: the server holds one subscription per topic, so leave first. */
  private resubscribe(subscription: TopicSubscription): void {
    if (this.socket?.readyState === OPEN) this.sendNow(this.socket, { type: 'unsubscribe', topic: subscription.topic })
    this.sendSubscribe(subscription)
  }

  private sendSubscribe(subscription: TopicSubscription): void {
    subscription.setState('subscribing')
    subscription.requestId = undefined
    if (this.socket?.readyState !== OPEN) return
    const since = subscription.position
    const id = this.request({ type: 'subscribe', topic: subscription.topic, lastN: subscription.lastN, since }, (result) => {
      if (subscription.requestId === id) this.subscribed(subscription, result, since !== undefined)
    })
    subscription.requestId = id
  }

  private subscribed(subscription: TopicSubscription, result: AckFrame | PubSubError, resumed: boolean): void {
    if (result instanceof PubSubError) {
      // No answer: the connection is suspect, and the next one resubscribes.
      if (result.code === 'TIMEOUT' && this.socket) return this.drop(this.socket, result)
      this.subscriptions.delete(subscription.topic)
      const deleted = result.code === 'TOPIC_NOT_FOUND' && subscription.position !== undefined
      return subscription.end(result, deleted ? 'topic_deleted' : undefined)
    }
    const ack = toSubscribeAck(result)
    if (!ack) {
      this.subscriptions.delete(subscription.topic)
      return subscription.end(new PubSubError('UNSUPPORTED', 'the subscribe ack lacks epoch, seq or replayed: the server does not support resume'))
    }
    subscription.position = positionAfterAck(ack)
    subscription.setState('subscribed')
    const reason = resetReasonOf(resumed, ack)
    if (reason !== undefined) subscription.reset(reason)
  }

  private leave(subscription: TopicSubscription): void {
    if (this.subscriptions.get(subscription.topic) !== subscription) return
    this.subscriptions.delete(subscription.topic)
    subscription.end()
    if (this.socket?.readyState === OPEN) this.sendNow(this.socket, { type: 'unsubscribe', topic: subscription.topic })
  }
}

/** ws's error events carry a message; the browser's carry nothing. */
const describe = (event: unknown): string =>
  typeof event === 'object' && event !== null && 'message' in event && typeof event.message === 'string' ? event.message : 'the connection failed'
