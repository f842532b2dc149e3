/**
 * How one client speaks to a target. The service and both plain `ws`
 * baselines share the service's JSON protocol; socket.io speaks Engine.IO v4
 * over a WebSocket (`42["event",…]`), written here by hand so that every
 * target is driven by the same minimal client.
 */
export type DialectName = 'pubsub' | 'socketio'

export type Dialect = {
  path: string
  /** Frames sent right after the handshake. */
  hello: string[]
  /** Whether the connection may send requests after receiving this frame. */
  isReady(frame: Buffer): boolean
  /** Frames that may arrive before the subscribe ack and mean nothing to the client (socket.io's open packet). */
  isPreamble(frame: Buffer): boolean
  subscribe(topic: string, requestId: number): string
  publish(topic: string, requestId: number, payloadJson: string): string
  isEvent(frame: Buffer): boolean
  isAck(frame: Buffer): boolean
  /** The request id an ack answers (the number `publish` was given), for publish → ack latency. */
  ackRequestId(frame: Buffer): number | undefined
  /** The frame to answer with, for application-level heartbeats (socket.io's "2" → "3"). */
  heartbeatReply(frame: Buffer): string | undefined
  /** The event object inside a frame, for the sampled full parse. */
  eventOf(frame: Buffer): unknown
}

/** A byte loop: for a prefix this short it is ~5× cheaper than the native `Buffer.compare`, and it runs once per delivery. */
function startsWith(frame: Buffer, prefix: Buffer): boolean {
  if (frame.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (frame[i] !== prefix[i]) return false
  return true
}

const PUBSUB_EVENT = Buffer.from('{"type":"event"')
const PUBSUB_ACK = Buffer.from('{"type":"ack"')
const PUBSUB_REQUEST_ID = Buffer.from('"request_id":"')

const pubsub: Dialect = {
  path: '/ws',
  hello: [],
  isReady: () => true,
  isPreamble: () => false,
  subscribe: (topic, id) => `{"type":"subscribe","topic":"${topic}","request_id":"${id}"}`,
  publish: (topic, id, payload) => `{"type":"publish","topic":"${topic}","request_id":"${id}","message":{"payload":${payload}}}`,
  isEvent: (frame) => startsWith(frame, PUBSUB_EVENT),
  isAck: (frame) => startsWith(frame, PUBSUB_ACK),
  ackRequestId: (frame) => {
    const at = frame.indexOf(PUBSUB_REQUEST_ID)
    return at < 0 ? undefined : readDigits(frame, at + PUBSUB_REQUEST_ID.length).value
  },
  heartbeatReply: () => undefined,
  eventOf: (frame) => JSON.parse(frame.toString()),
}

const SIO_EVENT = Buffer.from('42["event",')
const SIO_ACK = Buffer.from('43')
const SIO_CONNECTED = Buffer.from('40')
const SIO_PING = Buffer.from('2')
const SIO_OPEN = Buffer.from('0{')

const socketio: Dialect = {
  path: '/socket.io/?EIO=4&transport=websocket',
  hello: ['40'],
  isReady: (frame) => startsWith(frame, SIO_CONNECTED),
  isPreamble: (frame) => startsWith(frame, SIO_OPEN),
  subscribe: (topic, id) => `42${id}["subscribe","${topic}"]`,
  publish: (topic, id, payload) => `42${id}["publish","${topic}",{"payload":${payload}}]`,
  isEvent: (frame) => startsWith(frame, SIO_EVENT),
  isAck: (frame) => startsWith(frame, SIO_ACK),
  ackRequestId: (frame) => readDigits(frame, SIO_ACK.length).value,
  heartbeatReply: (frame) => (frame.length === 1 && startsWith(frame, SIO_PING) ? '3' : undefined),
  eventOf: (frame) => {
    const packet: unknown = JSON.parse(frame.subarray(2).toString())
    return Array.isArray(packet) ? packet[1] : undefined
  },
}

export const DIALECTS: Record<DialectName, Dialect> = { pubsub, socketio }

/**
 * Every payload is `{"n":<count>,"t":<µs since the epoch>,"p":"…"}`, padded to
 * `bytes`: n numbers the messages of one topic from 1, t stamps the publish.
 */
export function payloadJson(n: number, tMicros: number, bytes: number): string {
  const head = `{"n":${n},"t":${tMicros},"p":"`
  return head + padding(Math.max(0, bytes - head.length - 2)) + '"}'
}

/** The publisher pads every payload, and n and t change its length only now and then. */
const paddings = new Map<number, string>()
function padding(length: number): string {
  let pad = paddings.get(length)
  if (pad === undefined) paddings.set(length, (pad = 'x'.repeat(length)))
  return pad
}

const N_MARK = Buffer.from('{"n":')
const ZERO = 0x30

function readDigits(frame: Buffer, from: number): { value: number; end: number } {
  let value = 0
  let at = from
  for (; at < frame.length; at++) {
    const digit = (frame[at] as number) - ZERO
    if (digit < 0 || digit > 9) break
    value = value * 10 + digit
  }
  return { value, end: at }
}

/**
 * Reads n (and t when asked) without parsing the JSON: the payload is the
 * only place `{"n":` can appear, and this runs once per delivery.
 */
export function readStamp(frame: Buffer, withTime: boolean): { n: number; t: number } | undefined {
  const mark = frame.indexOf(N_MARK)
  if (mark < 0) return undefined
  const n = readDigits(frame, mark + N_MARK.length)
  if (!withTime) return { n: n.value, t: 0 }
  // n's digits are followed by `,"t":`
  const t = readDigits(frame, n.end + 5)
  return { n: n.value, t: t.value }
}

/** Read once: the getter costs as much as `performance.now()` itself, and this runs once per delivery. */
const timeOrigin = performance.timeOrigin

/** Microseconds since the epoch, comparable between processes on this machine. */
export const nowMicros = (): number => Math.round((timeOrigin + performance.now()) * 1000)
