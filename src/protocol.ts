/**
 * The wire format and nothing else: client message guards, server message
 * encoders (each returns the WebSocket text frame that carries the message)
 * and the error vocabulary shared by the WebSocket and REST edges.
 */

import { textFrame } from './frame.js'

/** Codes a WebSocket client can receive in an `error` frame. */
export type ErrorCode =
  | 'BAD_REQUEST' | 'TOPIC_NOT_FOUND' | 'SLOW_CONSUMER' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'TOKEN_EXPIRED' | 'INTERNAL' | 'UNAVAILABLE'

/** Everything a Failure can carry: the wire codes plus two that only REST reports. */
export type FailureCode = ErrorCode | 'TOPIC_EXISTS' | 'LIMIT_EXCEEDED'

export type Failure = { code: FailureCode; message: string }
export type Result<T> = { ok: true; value: T } | { ok: false; error: Failure }

export const ok = <T>(value: T): Result<T> => ({ ok: true, value })
export const fail = (code: FailureCode, message: string): { ok: false; error: Failure } => ({
  ok: false,
  error: { code, message },
})

export type MessageBody = { id?: string; payload: unknown }

/** A client's place in a topic: the topic's incarnation and the seq of the last event it processed. */
export type Position = { epoch: string; seq: number }
/** Why a subscribe with `since_seq` could not resume from its position. */
export type ResumeReason = 'epoch_mismatch' | 'seq_ahead' | 'history_truncated'
/** What to replay: the position to resume from, and the last_n to fall back on (or to use alone). */
export type ReplayRequest = { lastN: number; since?: Position }

export type Subscribe = ReplayRequest & { type: 'subscribe'; topic: string; clientId?: string; requestId?: string }
export type Unsubscribe = { type: 'unsubscribe'; topic: string; clientId?: string; requestId?: string }
export type Publish = { type: 'publish'; topic: string; message: MessageBody; requestId?: string }
export type Ping = { type: 'ping'; requestId?: string }
/** Replaces the connection's token before it expires. */
export type Refresh = { type: 'refresh'; token: string; requestId?: string }
export type ClientMessage = Subscribe | Unsubscribe | Publish | Ping | Refresh

/** A parse failure keeps the request_id when one could be read, so the error can echo it. */
export type ParseFailure = { ok: false; error: Failure; requestId?: string }
export type ParseResult = { ok: true; value: ClientMessage } | ParseFailure

const TOPIC_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/
const MAX_MESSAGE_ID_LENGTH = 256
const EPOCH = /^[A-Za-z0-9._-]{1,64}$/
const MAX_QUERY_LAST_N = 999_999_999

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export const isTopicName = (value: unknown): value is string => typeof value === 'string' && TOPIC_NAME.test(value)

export const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0

/** A seq a client may name: an integer from 0 to 2^53-1, the largest a JSON number carries exactly. */
export const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0

/** 1-64 characters of A-Z a-z 0-9 . _ -; the length is checked first, so a huge string costs nothing. */
export const isEpoch = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= 64 && EPOCH.test(value)

/**
 * 1-256 characters, counted as code points the way the contract (and the service
 * it replaces) counts them: an emoji is one character but two UTF-16 units.
 * Only ids between 257 and 512 units long need the count.
 */
export const isMessageId = (value: unknown): value is string =>
  typeof value === 'string' &&
  value.length >= 1 &&
  (value.length <= MAX_MESSAGE_ID_LENGTH || (value.length <= 2 * MAX_MESSAGE_ID_LENGTH && [...value].length <= MAX_MESSAGE_ID_LENGTH))

const isOptionalString = (value: unknown): value is string | undefined =>
  value === undefined || typeof value === 'string'

const badRequest = (field: string, rule: string) => fail('BAD_REQUEST', `'${field}' ${rule}`)

export const TOPIC_RULE = 'must be a topic name: 1-128 characters of A-Z a-z 0-9 . _ : - starting with a letter or digit'
export const SEQ_RULE = `must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}`
export const EPOCH_RULE = 'must be an epoch from an earlier ack: 1-64 characters of A-Z a-z 0-9 . _ -'
const LAST_N_RULE = 'must be an integer >= 0'
const CLIENT_TYPES = ['subscribe', 'unsubscribe', 'publish', 'ping', 'refresh'] as const

/** Validates a message body as sent over WebSocket (`message`) or REST (the request body). */
export function checkMessageBody(value: unknown, field = 'message'): Result<MessageBody> {
  if (!isRecord(value)) return badRequest(field, 'must be an object with a payload')
  if (value.id !== undefined && !isMessageId(value.id)) {
    return badRequest(`${field}.id`, `must be a string of 1-${MAX_MESSAGE_ID_LENGTH} characters`)
  }
  if (!Object.hasOwn(value, 'payload')) return badRequest(`${field}.payload`, 'is required (any JSON value)')
  return ok(value.id === undefined ? { payload: value.payload } : { id: value.id, payload: value.payload })
}

/**
 * `since_seq` and `epoch` come together or not at all: a seq means nothing
 * without the incarnation it counts in, and an epoch alone asks for nothing.
 */
function checkSince(sinceSeq: unknown, epoch: unknown): Result<Position | undefined> {
  if (sinceSeq === undefined) {
    return epoch === undefined ? ok(undefined) : badRequest('since_seq', `is required with 'epoch', and ${SEQ_RULE}`)
  }
  if (!isSeq(sinceSeq)) return badRequest('since_seq', SEQ_RULE)
  if (epoch === undefined) return badRequest('epoch', `is required with 'since_seq', and ${EPOCH_RULE}`)
  if (!isEpoch(epoch)) return badRequest('epoch', EPOCH_RULE)
  return ok({ epoch, seq: sinceSeq })
}

function checkSubscribe(m: Record<string, unknown>, requestId?: string): Result<Subscribe> {
  if (!isTopicName(m.topic)) return badRequest('topic', TOPIC_RULE)
  if (!isOptionalString(m.client_id)) return badRequest('client_id', 'must be a string')
  const lastN = m.last_n === undefined ? 0 : m.last_n
  if (!isCount(lastN)) return badRequest('last_n', LAST_N_RULE)
  const since = checkSince(m.since_seq, m.epoch)
  if (!since.ok) return since
  const subscribe: Subscribe = { type: 'subscribe', topic: m.topic, clientId: m.client_id, lastN, requestId }
  if (since.value) subscribe.since = since.value
  return ok(subscribe)
}

const DECIMAL = /^\d{1,16}$/

/** A query parameter holding a count or a seq: plain decimal digits, nothing else. */
function queryNumber(text: string | null, fits: (n: number) => boolean): number | undefined | null {
  if (text === null) return undefined
  const n = DECIMAL.test(text) ? Number(text) : Number.NaN
  return fits(n) ? n : null
}

/**
 * The replay a REST history read asks for, from its query. With `since_seq`
 * the read resumes as a subscribe does, falling back to `last_n` (default
 * none); without it, `last_n` defaults to every held event.
 */
export function checkReplayQuery(query: URLSearchParams): Result<ReplayRequest> {
  const sinceSeq = queryNumber(query.get('since_seq'), isSeq)
  if (sinceSeq === null) return badRequest('since_seq', SEQ_RULE)
  const lastN = queryNumber(query.get('last_n'), (n) => isCount(n) && n <= MAX_QUERY_LAST_N)
  if (lastN === null) return badRequest('last_n', `${LAST_N_RULE} and <= ${MAX_QUERY_LAST_N}`)
  const since = checkSince(sinceSeq, query.get('epoch') ?? undefined)
  if (!since.ok) return since
  if (!since.value) return ok({ lastN: lastN ?? Number.MAX_SAFE_INTEGER })
  return ok({ lastN: lastN ?? 0, since: since.value })
}

function checkUnsubscribe(m: Record<string, unknown>, requestId?: string): Result<Unsubscribe> {
  if (!isTopicName(m.topic)) return badRequest('topic', TOPIC_RULE)
  if (!isOptionalString(m.client_id)) return badRequest('client_id', 'must be a string')
  return ok({ type: 'unsubscribe', topic: m.topic, clientId: m.client_id, requestId })
}

function checkPublish(m: Record<string, unknown>, requestId?: string): Result<Publish> {
  if (!isTopicName(m.topic)) return badRequest('topic', TOPIC_RULE)
  const message = checkMessageBody(m.message)
  if (!message.ok) return message
  return ok({ type: 'publish', topic: m.topic, message: message.value, requestId })
}

function checkRefresh(m: Record<string, unknown>, requestId?: string): Result<Refresh> {
  if (typeof m.token !== 'string' || m.token === '') return badRequest('token', 'must be a non-empty string: a JWT')
  return ok({ type: 'refresh', token: m.token, requestId })
}

function checkFields(m: Record<string, unknown>, requestId?: string): Result<ClientMessage> {
  switch (m.type) {
    case 'subscribe': return checkSubscribe(m, requestId)
    case 'unsubscribe': return checkUnsubscribe(m, requestId)
    case 'publish': return checkPublish(m, requestId)
    case 'ping': return ok({ type: 'ping', requestId })
    case 'refresh': return checkRefresh(m, requestId)
    default: return badRequest('type', `must be one of ${CLIENT_TYPES.join(', ')}`)
  }
}

function parseJson(text: string): Result<unknown> {
  try {
    return ok(JSON.parse(text))
  } catch {
    return fail('BAD_REQUEST', 'frame is not valid JSON')
  }
}

/** Turns one text frame into a typed client message, or a failure naming the field. */
export function parseClientMessage(text: string): ParseResult {
  const json = parseJson(text)
  if (!json.ok) return json
  const m = json.value
  if (!isRecord(m)) return fail('BAD_REQUEST', 'frame must be a JSON object with a "type" field')
  if (!isOptionalString(m.request_id)) return badRequest('request_id', 'must be a string')
  const requestId = m.request_id
  const checked = checkFields(m, requestId)
  return checked.ok ? checked : { ...checked, requestId }
}

// ---- encoders: every server frame has a type and an ISO-8601 UTC ts ----

const WIRE_CODES: ReadonlySet<FailureCode> = new Set<ErrorCode>([
  'BAD_REQUEST', 'TOPIC_NOT_FOUND', 'SLOW_CONSUMER', 'UNAUTHORIZED', 'FORBIDDEN', 'TOKEN_EXPIRED', 'INTERNAL', 'UNAVAILABLE',
])

/** REST-only codes travel over WebSocket as BAD_REQUEST, keeping the frame's code set closed. */
export const toWireCode = (code: FailureCode): ErrorCode => (WIRE_CODES.has(code) ? (code as ErrorCode) : 'BAD_REQUEST')

let lastMs = Number.NaN
let lastIso = ''

/**
 * Every frame carries a millisecond timestamp, and a busy server sends many in
 * the same millisecond: formatting each one anew was 5 % of the server's CPU
 * in the topics benchmark.
 */
function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString()
    lastMs = ms
  }
  return lastIso
}

/** Every server message is built as the WebSocket frame that carries it, so it is never copied again. */
const frame = (value: object): Buffer => textFrame(JSON.stringify(value))

export type EventFields = { topic: string; seq: number; id: string; payload: unknown; ts: number }

/**
 * The two frames of every publish (the event and its ack) are written as
 * templates, in the same key order JSON.stringify would give: building and
 * walking an envelope object for each cost more than the text itself.
 */
const field = (name: string, value: string | number | boolean | undefined): string =>
  value === undefined ? '' : `,"${name}":${JSON.stringify(value)}`

/**
 * An event's JSON text is `eventTextBeforeSeq(topic) + seq + eventTextAfterSeq(…)`.
 * In cluster mode Redis assigns the seq and puts it in between, so every node
 * and every replay get the same bytes; the text before the seq is the same for
 * every event of a topic.
 */
export const eventTextBeforeSeq = (topic: string): string => `{"type":"event","topic":${JSON.stringify(topic)},"seq":`

/** Fails only for a payload nested too deeply for JSON.stringify's recursion (JSON.parse has no such limit). */
export function eventTextAfterSeq(e: Omit<EventFields, 'topic' | 'seq'>): Result<string> {
  let payload: string
  try {
    payload = JSON.stringify(e.payload)
  } catch {
    return fail('BAD_REQUEST', 'the payload is nested too deeply to encode')
  }
  return ok(`,"message":{"id":${JSON.stringify(e.id)},"payload":${payload}},"ts":"${isoTime(e.ts)}"}`)
}

/** The event's frame; `frameOf` chooses where the frame's bytes live. */
export function encodeEvent(e: EventFields, frameOf: (text: string) => Buffer): Result<Buffer> {
  const afterSeq = eventTextAfterSeq(e)
  return afterSeq.ok ? ok(frameOf(eventTextBeforeSeq(e.topic) + e.seq + afterSeq.value)) : afterSeq
}

/**
 * A publish ack has messageId, seq and epoch; a subscribe ack epoch, seq (the
 * head), replayed and, when it resumed, recovered and (when not) the reason.
 */
export type AckFields = {
  requestId?: string
  topic: string
  messageId?: string
  seq?: number
  epoch?: string
  replayed?: number
  recovered?: boolean
  reason?: ResumeReason
}

export const encodeAck = (a: AckFields, ts: number): Buffer =>
  textFrame(
    `{"type":"ack"${field('request_id', a.requestId)},"topic":${JSON.stringify(a.topic)}` +
      `${field('message_id', a.messageId)}${field('epoch', a.epoch)}${field('seq', a.seq)}` +
      `${field('replayed', a.replayed)}${field('recovered', a.recovered)}${field('reason', a.reason)}` +
      `,"status":"ok","ts":"${isoTime(ts)}"}`,
  )

export const encodeError = (requestId: string | undefined, error: Failure, ts: number): Buffer =>
  frame({
    type: 'error',
    request_id: requestId,
    error: { code: toWireCode(error.code), message: error.message },
    ts: isoTime(ts),
  })

export const encodePong = (requestId: string | undefined, ts: number): Buffer =>
  frame({ type: 'pong', request_id: requestId, ts: isoTime(ts) })

export const encodeInfo = (topic: string, msg: string, ts: number, reason?: ErrorCode): Buffer =>
  frame({ type: 'info', topic, msg, reason, ts: isoTime(ts) })

/** The ack of a refresh, which names no topic. */
export const encodeRefreshAck = (requestId: string | undefined, ts: number): Buffer =>
  frame({ type: 'ack', request_id: requestId, status: 'ok', ts: isoTime(ts) })
