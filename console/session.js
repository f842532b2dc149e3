// The console's connection, built on the project's client library: the client
// connects, reconnects, resumes and tracks subscriptions; this module reports
// every frame in both directions (by handing the client a WebSocket that taps
// them), and the client's connection and subscription states, to the page.

/** @typedef {import('../src/client/exports.js').ClientState} ConnectionState */
/** @typedef {import('../src/client/exports.js').PublishAck} PublishAck */
/** @typedef {import('../src/client/exports.js').Subscription} ClientSubscription */
/** @typedef {import('../src/client/browser.js').createClient} CreateClient */
/**
 * @typedef {object} Subscription
 * @property {string} topic
 * @property {import('../src/client/exports.js').SubscriptionState} state
 * @property {string} [epoch] the topic's epoch at the subscription's position
 * @property {number} [lastSeq] the seq of its position: the last event received, or where it started
 * @property {string} [note] why it was reset, refused or ended
 */
/**
 * @typedef {object} SessionEvents
 * @property {(direction: 'in' | 'out', text: string) => void} onFrame
 * @property {(state: ConnectionState, detail: string) => void} onState
 * @property {(subscriptions: Subscription[]) => void} onSubscriptions
 */

/** A JWT is three base64url parts; anything else is taken as an API key (both travel the same way). */
const JWT = /^[\w-]+\.[\w-]+\.[\w-]*$/
/** WebSocket.OPEN, spelled out: Node 20, where the module is also tested, has no global WebSocket. */
const OPEN = 1

/**
 * A WebSocket class that reports every frame, for the client to open its connections with.
 * @param {typeof WebSocket} Base
 * @param {SessionEvents['onFrame']} onFrame
 * @param {(socket: WebSocket) => void} onOpened
 */
function tappedWebSocket(Base, onFrame, onOpened) {
  return class TappedWebSocket extends Base {
    /** @param {string | URL} url @param {string | string[]} [protocols] */
    constructor(url, protocols) {
      super(url, protocols)
      // Registered before the client's own handler, so the log shows a frame before its effects.
      this.addEventListener('message', (event) => onFrame('in', String(event.data)))
      this.addEventListener('open', () => onOpened(this))
    }

    /** @param {string} data */
    send(data) {
      onFrame('out', data)
      super.send(data)
    }
  }
}

export class Session {
  /** @type {Map<string, { subscription: ClientSubscription, note?: string }>} */
  #subscriptions = new Map()
  /** @type {WebSocket | undefined} the connection the client uses now */
  #socket
  #pings = 0
  #events
  #client

  /**
   * @param {{ createClient: CreateClient, url: string, credential: string, events: SessionEvents, WebSocket?: typeof WebSocket }} options
   */
  constructor({ createClient, url, credential, events, WebSocket: Base = WebSocket }) {
    this.#events = events
    const kind = credential === '' ? {} : JWT.test(credential) ? { token: credential } : { apiKey: credential }
    const Tapped = tappedWebSocket(Base, events.onFrame, (socket) => { this.#socket = socket })
    this.#client = createClient(url, { ...kind, WebSocket: Tapped })
    this.#client.on('state', (state) => {
      const protocol = state === 'connected' ? this.#socket?.protocol : undefined
      events.onState(state, protocol ? `subprotocol ${protocol}` : '')
    })
    // The client retries by itself; its errors say why the last attempt failed.
    this.#client.on('error', (error) => events.onState(this.#client.state, error.message))
    events.onState(this.#client.state, url)
  }

  /** @returns {Subscription[]} */
  get subscriptions() {
    return [...this.#subscriptions.values()].map(({ subscription: s, note }) => ({
      topic: s.topic, state: s.state, epoch: s.position?.epoch, lastSeq: s.position?.seq, note,
    }))
  }

  /** @param {string} topic @param {{ last_n?: number, epoch?: string, since_seq?: number }} start */
  subscribe(topic, start) {
    this.#subscriptions.get(topic)?.subscription.unsubscribe()
    const since = start.epoch !== undefined && start.since_seq !== undefined ? { epoch: start.epoch, seq: start.since_seq } : undefined
    let subscription
    try {
      subscription = this.#client.subscribe(topic, () => this.#changed(), { lastN: start.last_n, since })
    } catch (error) {
      return this.#events.onState(this.#client.state, error instanceof Error ? error.message : String(error))
    }
    const entry = { subscription, note: /** @type {string | undefined} */ (undefined) }
    this.#subscriptions.set(topic, entry)
    subscription.on('state', () => this.#changed())
    subscription.on('reset', ({ reason }) => { entry.note = `reset: ${reason}`; this.#changed() })
    subscription.on('error', (error) => { entry.note = `${error.code}: ${error.message}`; this.#changed() })
    this.#changed()
  }

  /** Ends the subscription if it is live, and forgets it. @param {string} topic */
  unsubscribe(topic) {
    this.#subscriptions.get(topic)?.subscription.unsubscribe()
    this.#subscriptions.delete(topic)
    this.#changed()
  }

  /**
   * @param {string} topic @param {unknown} payload @param {string | undefined} id
   * @returns {Promise<PublishAck>}
   */
  publish(topic, payload, id) {
    return this.#client.publish(topic, payload, { id })
  }

  /** The client pings on its own when the server goes quiet; this one is the user's, on the same connection. */
  ping() {
    if (this.#socket?.readyState === OPEN) this.#socket.send(JSON.stringify({ type: 'ping', request_id: `console-ping-${++this.#pings}` }))
  }

  close() {
    this.#client.close()
  }

  #changed() {
    this.#events.onSubscriptions(this.subscriptions)
  }
}
