import assert from 'node:assert/strict'
import { test } from 'node:test'
import { frameText, textFrame } from '../src/frame.js'
import {
  checkMessageBody, encodeAck, encodeError, encodeEvent, encodePong, EPOCH_RULE, parseClientMessage, SEQ_RULE, TOPIC_RULE,
} from '../src/protocol.js'

/** The BAD_REQUEST sentence for `text`, and the request_id kept for the reply. */
function rejection(text: string): { message: string; requestId?: string } {
  const parsed = parseClientMessage(text)
  assert.equal(parsed.ok, false, `expected ${text} to be rejected`)
  if (parsed.ok) throw new Error('unreachable')
  assert.equal(parsed.error.code, 'BAD_REQUEST')
  return { message: parsed.error.message, requestId: parsed.requestId }
}

const cases: [string, string, string][] = [
  ['invalid JSON', '{"type":', 'frame is not valid JSON'],
  ['an array', '[1,2]', 'frame must be a JSON object with a "type" field'],
  ['a string', '"subscribe"', 'frame must be a JSON object with a "type" field'],
  ['null', 'null', 'frame must be a JSON object with a "type" field'],
  ['a missing type', '{"topic":"orders"}', "'type' must be one of subscribe, unsubscribe, publish, ping, refresh"],
  ['an unknown type', '{"type":"shout"}', "'type' must be one of subscribe, unsubscribe, publish, ping, refresh"],
  ['a numeric request_id', '{"type":"ping","request_id":7}', "'request_id' must be a string"],
  ['a missing topic', '{"type":"subscribe"}', `'topic' ${TOPIC_RULE}`],
  ['a numeric topic', '{"type":"unsubscribe","topic":5}', `'topic' ${TOPIC_RULE}`],
  ['a topic with a slash', '{"type":"publish","topic":"a/b","message":{"payload":1}}', `'topic' ${TOPIC_RULE}`],
  ['a topic of 129 characters', `{"type":"subscribe","topic":"${'a'.repeat(129)}"}`, `'topic' ${TOPIC_RULE}`],
  ['a negative last_n', '{"type":"subscribe","topic":"t","last_n":-1}', "'last_n' must be an integer >= 0"],
  ['a fractional last_n', '{"type":"subscribe","topic":"t","last_n":1.5}', "'last_n' must be an integer >= 0"],
  ['a string last_n', '{"type":"subscribe","topic":"t","last_n":"3"}', "'last_n' must be an integer >= 0"],
  ['a null last_n', '{"type":"subscribe","topic":"t","last_n":null}', "'last_n' must be an integer >= 0"],
  ['a numeric client_id', '{"type":"subscribe","topic":"t","client_id":1}', "'client_id' must be a string"],
  ['a missing message', '{"type":"publish","topic":"t"}', "'message' must be an object with a payload"],
  ['a message that is an array', '{"type":"publish","topic":"t","message":[]}', "'message' must be an object with a payload"],
  ['a missing payload', '{"type":"publish","topic":"t","message":{"id":"x"}}', "'message.payload' is required (any JSON value)"],
  ['an empty message id', '{"type":"publish","topic":"t","message":{"id":"","payload":1}}', "'message.id' must be a string of 1-256 characters"],
  ['a numeric message id', '{"type":"publish","topic":"t","message":{"id":5,"payload":1}}', "'message.id' must be a string of 1-256 characters"],
  ['a message id of 257 characters', `{"type":"publish","topic":"t","message":{"id":"${'x'.repeat(257)}","payload":1}}`, "'message.id' must be a string of 1-256 characters"],
  ['a message id of 257 emoji', `{"type":"publish","topic":"t","message":{"id":"${'🙂'.repeat(257)}","payload":1}}`, "'message.id' must be a string of 1-256 characters"],
  ['a negative since_seq', '{"type":"subscribe","topic":"t","since_seq":-1,"epoch":"e"}', `'since_seq' ${SEQ_RULE}`],
  ['a since_seq of 2^53', '{"type":"subscribe","topic":"t","since_seq":9007199254740992,"epoch":"e"}', `'since_seq' ${SEQ_RULE}`],
  ['a since_seq without epoch', '{"type":"subscribe","topic":"t","since_seq":5}', `'epoch' is required with 'since_seq', and ${EPOCH_RULE}`],
  ['an epoch without since_seq', '{"type":"subscribe","topic":"t","epoch":"e"}', `'since_seq' is required with 'epoch', and ${SEQ_RULE}`],
  ['an epoch of 65 characters', `{"type":"subscribe","topic":"t","since_seq":5,"epoch":"${'e'.repeat(65)}"}`, `'epoch' ${EPOCH_RULE}`],
  ['an epoch with a space', '{"type":"subscribe","topic":"t","since_seq":5,"epoch":"a b"}', `'epoch' ${EPOCH_RULE}`],
]

for (const [shape, text, sentence] of cases) {
  test(`${shape} is rejected with: ${sentence}`, () => {
    assert.equal(rejection(text).message, sentence)
  })
}

test('a rejected frame keeps its request_id for the error reply', () => {
  assert.equal(rejection('{"type":"subscribe","request_id":"r-1"}').requestId, 'r-1')
})

test('a valid subscribe becomes a typed value with camelCase fields and last_n defaulting to 0', () => {
  assert.deepEqual(parseClientMessage('{"type":"subscribe","topic":"orders","client_id":"A","request_id":"s"}'), {
    ok: true,
    value: { type: 'subscribe', topic: 'orders', clientId: 'A', lastN: 0, requestId: 's' },
  })
})

test('a subscribe with since_seq and epoch carries the position to resume from', () => {
  assert.deepEqual(parseClientMessage('{"type":"subscribe","topic":"orders","since_seq":0,"epoch":"x_Y-1.2","last_n":3}'), {
    ok: true,
    value: { type: 'subscribe', topic: 'orders', clientId: undefined, lastN: 3, requestId: undefined, since: { epoch: 'x_Y-1.2', seq: 0 } },
  })
})

test('a message id is counted in characters, not UTF-16 units: 256 of them are accepted', () => {
  for (const id of ['x'.repeat(256), '🙂'.repeat(256), 'x' + '🙂'.repeat(255)]) {
    assert.deepEqual(checkMessageBody({ id, payload: 1 }), { ok: true, value: { id, payload: 1 } }, `${id.length} units`)
  }
})

test('a payload may be any JSON value, null included', () => {
  assert.deepEqual(checkMessageBody({ payload: null }), { ok: true, value: { payload: null } })
  assert.deepEqual(checkMessageBody({ id: 'm', payload: [1] }), { ok: true, value: { id: 'm', payload: [1] } })
})

test('topic names follow the contract pattern', () => {
  for (const good of ['a', 'A1', 'orders.eu-west:2', '0_x', 'a'.repeat(128)]) {
    assert.equal(parseClientMessage(`{"type":"unsubscribe","topic":"${good}"}`).ok, true, good)
  }
  for (const bad of ['', '.a', '-a', '_a', 'a b', 'é']) {
    assert.equal(parseClientMessage(`{"type":"unsubscribe","topic":"${bad}"}`).ok, false, bad)
  }
})

test('encoders stamp type and an ISO-8601 UTC ts with milliseconds', () => {
  const ts = Date.UTC(2026, 0, 1)
  const event = encodeEvent({ topic: 'o', seq: 7, id: 'i', payload: { a: 1 }, ts }, textFrame)
  assert.ok(event.ok)
  assert.equal(
    frameText(event.value),
    '{"type":"event","topic":"o","seq":7,"message":{"id":"i","payload":{"a":1}},"ts":"2026-01-01T00:00:00.000Z"}',
  )
  assert.equal(
    frameText(encodeAck({ requestId: 'r', topic: 'o' }, ts)),
    '{"type":"ack","request_id":"r","topic":"o","status":"ok","ts":"2026-01-01T00:00:00.000Z"}',
  )
})

test('the templated event and ack are the JSON that JSON.stringify would give, escapes included', () => {
  const ts = Date.UTC(2026, 0, 1)
  const id = 'quote " backslash \\ newline \n é'
  const payload = { text: '</script> \u2028 "x"', list: [1, null, true], nested: { a: { b: [] } } }
  const event = encodeEvent({ topic: 'o.1', seq: 2, id, payload, ts }, textFrame)
  assert.ok(event.ok)
  assert.equal(
    frameText(event.value),
    JSON.stringify({ type: 'event', topic: 'o.1', seq: 2, message: { id, payload }, ts: '2026-01-01T00:00:00.000Z' }),
  )
  assert.equal(
    frameText(encodeAck({ topic: 'o.1', messageId: id, seq: 2 }, ts)),
    JSON.stringify({ type: 'ack', topic: 'o.1', message_id: id, seq: 2, status: 'ok', ts: '2026-01-01T00:00:00.000Z' }),
  )
  assert.equal(
    frameText(encodeAck({ requestId: 'r"1', topic: 'o.1', messageId: id, seq: 2 }, ts)),
    JSON.stringify({ type: 'ack', request_id: 'r"1', topic: 'o.1', message_id: id, seq: 2, status: 'ok', ts: '2026-01-01T00:00:00.000Z' }),
  )
})

test('each frame carries its own millisecond, also when the clock goes back', () => {
  const stamps = [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 1, Date.UTC(2025, 11, 31, 23, 59, 59, 999)]
  const seen = stamps.map((ms) => JSON.parse(frameText(encodePong(undefined, ms))).ts)
  assert.deepEqual(seen, ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.001Z', '2025-12-31T23:59:59.999Z'])
})

test('REST-only failure codes travel over WebSocket as BAD_REQUEST', () => {
  const frame = JSON.parse(frameText(encodeError('r', { code: 'LIMIT_EXCEEDED', message: 'too many' }, 0)))
  assert.deepEqual(frame.error, { code: 'BAD_REQUEST', message: 'too many' })
})

test('a payload nested too deeply to encode is a BAD_REQUEST, not an exception', () => {
  const depth = 200_000
  const payload: unknown = JSON.parse('['.repeat(depth) + ']'.repeat(depth))
  assert.deepEqual(encodeEvent({ topic: 'o', seq: 1, id: 'i', payload, ts: 0 }, textFrame), {
    ok: false,
    error: { code: 'BAD_REQUEST', message: 'the payload is nested too deeply to encode' },
  })
})
