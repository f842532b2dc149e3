/**
 * The client's half of the wire format: server frames checked into typed
 * values, requests encoded as text. Wire names (request_id, since_seq) stay here.
 */

/** Where a subscriber stands in a topic: the topic's incarnation and the seq of the last event it processed. */
export type Position = { epoch: string; seq: number }

export type AckFrame = {
  type: 'ack'
  requestId: string
  messageId?: string
  seq?: number
  epoch?: string
  replayed?: number
  recovered?: boolean
  reason?: string
}
export type EventFrame = { type: 'event'; topic: string; seq: number; id: string; payload: unknown; ts: string }
export type ErrorFrame = { type: 'error'; requestId?: string; code: string; message: string }
export type InfoFrame = { type: 'info'; topic: string; msg: string; reason?: string }
export type ServerFrame = AckFrame | EventFrame | ErrorFrame | InfoFrame | { type: 'pong' }

/** The subscribe ack's fields that place the replay after it. */
export type SubscribeAck = { epoch: string; seq: number; replayed: number; recovered?: boolean; reason?: string }
export type PublishAck = { messageId: string; seq: number; epoch: string }

export type Request =
  | { type: 'subscribe'; topic: string; lastN?: number; since?: Position }
  | { type: 'unsubscribe'; topic: string }
  | { type: 'publish'; topic: string; id?: string; payload: unknown }
  | { type: 'ping' }
  | { type: 'refresh'; token: string }

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const isString = (value: unknown): value is string => typeof value === 'string'

export const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && Number(value) >= 0

/** An optional field keeps its value only when it has the expected type. */
const optional = <T>(value: unknown, is: (v: unknown) => v is T): T | undefined => (is(value) ? value : undefined)

const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean'

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** A frame the client can act on, or undefined for anything else (which it ignores). */
export function parseFrame(text: string): ServerFrame | undefined {
  const f = parseJson(text)
  if (!isRecord(f)) return undefined
  const requestId = optional(f.request_id, isString)
  switch (f.type) {
    case 'event': {
      const m = f.message
      if (!isString(f.topic) || !isSeq(f.seq) || !isRecord(m) || !isString(m.id)) return undefined
      return { type: 'event', topic: f.topic, seq: f.seq, id: m.id, payload: m.payload, ts: optional(f.ts, isString) ?? '' }
    }
    case 'ack':
      if (requestId === undefined) return undefined
      return {
        type: 'ack',
        requestId,
        messageId: optional(f.message_id, isString),
        seq: optional(f.seq, isSeq),
        epoch: optional(f.epoch, isString),
        replayed: optional(f.replayed, isSeq),
        recovered: optional(f.recovered, isBoolean),
        reason: optional(f.reason, isString),
      }
    case 'error': {
      const e = isRecord(f.error) ? f.error : {}
      return { type: 'error', requestId, code: optional(e.code, isString) ?? 'INTERNAL', message: optional(e.message, isString) ?? '' }
    }
    case 'info':
      if (!isString(f.topic) || !isString(f.msg)) return undefined
      return { type: 'info', topic: f.topic, msg: f.msg, reason: optional(f.reason, isString) }
    case 'pong':
      return { type: 'pong' }
    default:
      return undefined
  }
}

export function toSubscribeAck(a: AckFrame): SubscribeAck | undefined {
  const { epoch, seq, replayed } = a
  if (epoch === undefined || seq === undefined || replayed === undefined || replayed > seq) return undefined
  return { epoch, seq, replayed, recovered: a.recovered, reason: a.reason }
}

export function toPublishAck(a: AckFrame): PublishAck | undefined {
  const { messageId, seq, epoch } = a
  return messageId === undefined || seq === undefined || epoch === undefined ? undefined : { messageId, seq, epoch }
}

/** The text frame of a request; throws a TypeError for a payload JSON cannot encode. */
export function encodeRequest(r: Request, requestId: string): string {
  switch (r.type) {
    case 'subscribe':
      return JSON.stringify({
        type: r.type,
        topic: r.topic,
        last_n: r.lastN,
        since_seq: r.since?.seq,
        epoch: r.since?.epoch,
        request_id: requestId,
      })
    case 'publish':
      return JSON.stringify({ type: r.type, topic: r.topic, message: { id: r.id, payload: r.payload }, request_id: requestId })
    default:
      return JSON.stringify({ ...r, request_id: requestId })
  }
}
