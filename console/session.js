// One WebSocket session with the server: sends frames, reports every frame in both
// directions, and follows the connection's and each subscription's state from the
// replies. It touches no page element, so it can be driven from a test.
import { subprotocols } from './checks.js'

/** @typedef {'connecting' | 'open' | 'closing' | 'closed' | 'refused'} ConnectionState */
/** @typedef {'subscribing' | 'subscribed' | 'unsubscribing' | 'failed' | 'ended' | 'disconnected'} SubscriptionState */
/**
 * @typedef {object} Subscription
 * @property {string} topic
 * @property {SubscriptionState} state
 * @property {string} [epoch] the topic's epoch from the subscribe ack, when the server sends one
 * @property {number} [lastSeq] the seq of the last event received, or the head from the ack
 * @property {string} [note] why the subscription failed or ended
 */
/**
 * @typedef {object} SessionEvents
 * @property {(direction: 'in' | 'out', text: string) => void} onFrame
 * @property {(state: ConnectionState, detail: string) => void} onState
 * @property {(subscriptions: Subscription[]) => void} onSubscriptions
 */

/** @param {unknown} value @returns {value is Record<string, unknown>} */
const isRecord = (value) => typeof value === 'object' && value !== null && !Array.isArray(value)
/** @param {unknown} value @returns {string | undefined} */
const text = (value) => (typeof value === 'string' ? value : undefined)
/** @param {unknown} value @returns {number | undefined} */
const count = (value) => (typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined)

export class Session {
  /** @type {Map<string, Subscription>} */
  #subscriptions = new Map()
  /** Requests awaiting their reply, by request_id. @type {Map<string, { type: string, topic?: string }>} */
  #pending = new Map()
  #requests = 0
  #opened = false
  /** @type {WebSocket} */
  #socket
  /** @type {SessionEvents} */
  #events

  /**
   * @param {string} url the /ws URL, with no credential in it
   * @param {string} credential an API key or token, or '' when the server needs none
   * @param {SessionEvents} events
   * @param {typeof WebSocket} [WebSocketImpl]
   */
  constructor(url, credential, events, WebSocketImpl = WebSocket) {
    this.#events = events
    this.#socket = new WebSocketImpl(url, subprotocols(credential))
    events.onState('connecting', url)
    this.#socket.addEventListener('open', () => {
      this.#opened = true
      events.onState('open', `subprotocol ${this.#socket.protocol || '(none)'}`)
    })
    this.#socket.addEventListener('message', (event) => this.#receive(String(event.data)))
    this.#socket.addEventListener('close', (event) => this.#closed(event.code, event.reason))
  }

  /** @returns {Subscription[]} */
  get subscriptions() {
    return [...this.#subscriptions.values()]
  }

  /** @param {string} topic @param {{ last_n?: number, epoch?: string, since_seq?: number }} start */
  subscribe(topic, start) {
    const previous = this.#subscriptions.get(topic)
    this.#track(topic, { ...previous, topic, state: 'subscribing', note: undefined })
    this.#send({ type: 'subscribe', topic, ...start }, topic)
  }

  /** @param {string} topic */
  unsubscribe(topic) {
    const subscription = this.#subscriptions.get(topic)
    if (subscription?.state === 'subscribed' || subscription?.state === 'subscribing') {
      this.#track(topic, { ...subscription, state: 'unsubscribing' })
      this.#send({ type: 'unsubscribe', topic }, topic)
    } else {
      // Nothing to tell the server: it no longer holds this subscription.
      this.#subscriptions.delete(topic)
      this.#changed()
    }
  }

  /** @param {string} topic @param {unknown} payload @param {string | undefined} id */
  publish(topic, payload, id) {
    this.#send({ type: 'publish', topic, message: id === undefined ? { payload } : { id, payload } }, topic)
  }

  ping() {
    this.#send({ type: 'ping' })
  }

  close() {
    if (this.#socket.readyState === this.#socket.CLOSED) return
    this.#events.onState('closing', '')
    this.#socket.close(1000, 'closed from the console')
  }

  /** @param {Record<string, unknown>} frame @param {string} [topic] */
  #send(frame, topic) {
    if (this.#socket.readyState !== this.#socket.OPEN) return
    const requestId = `console-${++this.#requests}`
    this.#pending.set(requestId, { type: String(frame.type), topic })
    const wire = JSON.stringify({ ...frame, request_id: requestId })
    this.#socket.send(wire)
    this.#events.onFrame('out', wire)
  }

  /** @param {string} data */
  #receive(data) {
    this.#events.onFrame('in', data)
    let frame
    try {
      frame = JSON.parse(data)
    } catch {
      return
    }
    if (!isRecord(frame)) return
    const requestId = text(frame.request_id)
    const request = requestId === undefined ? undefined : this.#pending.get(requestId)
    if (requestId !== undefined) this.#pending.delete(requestId)
    if (frame.type === 'event') this.#onEvent(frame)
    else if (frame.type === 'info') this.#onInfo(frame)
    else if (request?.topic !== undefined && (frame.type === 'ack' || frame.type === 'error')) this.#onReply(request.type, request.topic, frame)
  }

  /** @param {Record<string, unknown>} frame */
  #onEvent(frame) {
    const topic = text(frame.topic)
    const subscription = topic === undefined ? undefined : this.#subscriptions.get(topic)
    const seq = count(frame.seq)
    if (subscription && seq !== undefined) this.#track(subscription.topic, { ...subscription, lastSeq: seq })
  }

  /** `topic_deleted`, and from newer servers `unsubscribed` or `resync_required`, end a subscription. @param {Record<string, unknown>} frame */
  #onInfo(frame) {
    const topic = text(frame.topic)
    const subscription = topic === undefined ? undefined : this.#subscriptions.get(topic)
    if (!subscription) return
    const reason = text(frame.reason)
    this.#track(subscription.topic, { ...subscription, state: 'ended', note: [text(frame.msg), reason].filter(Boolean).join(': ') })
  }

  /** @param {string} type @param {string} topic @param {Record<string, unknown>} frame */
  #onReply(type, topic, frame) {
    const subscription = this.#subscriptions.get(topic)
    if (!subscription || (type !== 'subscribe' && type !== 'unsubscribe')) return
    if (frame.type === 'error') {
      const error = isRecord(frame.error) ? `${text(frame.error.code)}: ${text(frame.error.message)}` : 'error'
      this.#track(topic, { ...subscription, state: 'failed', note: error })
    } else if (type === 'unsubscribe') {
      this.#subscriptions.delete(topic)
      this.#changed()
    } else {
      const resumed = frame.recovered === false ? `not resumed: ${text(frame.reason)}` : undefined
      const epoch = text(frame.epoch) ?? subscription.epoch
      // The ack names the head; `replayed` events up to it follow, each moving lastSeq on.
      const head = count(frame.seq)
      const lastSeq = head === undefined ? subscription.lastSeq : head - (count(frame.replayed) ?? 0)
      this.#track(topic, { ...subscription, state: 'subscribed', epoch, lastSeq, note: resumed })
    }
  }

  /** @param {number} code @param {string} reason */
  #closed(code, reason) {
    // A browser is not told why an upgrade was refused: it sees only a close before open.
    if (!this.#opened) this.#events.onState('refused', 'the server refused the connection: a missing or wrong credential, or the server is unreachable')
    else this.#events.onState('closed', `code ${code}${reason ? `, ${reason}` : ''}`)
    for (const subscription of this.#subscriptions.values()) {
      this.#subscriptions.set(subscription.topic, { ...subscription, state: 'disconnected' })
    }
    this.#pending.clear()
    this.#changed()
  }

  /** @param {string} topic @param {Subscription} subscription */
  #track(topic, subscription) {
    this.#subscriptions.set(topic, subscription)
    this.#changed()
  }

  #changed() {
    this.#events.onSubscriptions(this.subscriptions)
  }
}
