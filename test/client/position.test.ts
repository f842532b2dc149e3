import assert from 'node:assert/strict'
import { test } from 'node:test'
import { positionAfterAck, resetReasonOf, stepOf } from '../../src/client/position.js'
import { encodeRequest, parseFrame, toPublishAck, toSubscribeAck, type AckFrame } from '../../src/client/protocol.js'

const at = { epoch: 'e1', seq: 10 }

test('an event at or before the position is old, the one after it next, any later one a gap', () => {
  assert.equal(stepOf(at, 9), 'old')
  assert.equal(stepOf(at, 10), 'old')
  assert.equal(stepOf(at, 11), 'next')
  assert.equal(stepOf(at, 12), 'gap')
})

test('after an ack the position stands just before the replayed events', () => {
  assert.deepEqual(positionAfterAck({ epoch: 'e2', seq: 100, replayed: 0 }), { epoch: 'e2', seq: 100 })
  assert.deepEqual(positionAfterAck({ epoch: 'e2', seq: 100, replayed: 10 }), { epoch: 'e2', seq: 90 })
})

test('a reset happens only when a resume was asked for and not recovered', () => {
  assert.equal(resetReasonOf(false, { epoch: 'e', seq: 5, replayed: 5, recovered: false, reason: 'epoch_mismatch' }), undefined)
  assert.equal(resetReasonOf(true, { epoch: 'e', seq: 5, replayed: 2, recovered: true }), undefined)
  for (const reason of ['epoch_mismatch', 'history_truncated', 'seq_ahead']) {
    assert.equal(resetReasonOf(true, { epoch: 'e', seq: 5, replayed: 0, recovered: false, reason }), reason)
  }
  assert.equal(resetReasonOf(true, { epoch: 'e', seq: 5, replayed: 0 }), 'not_recovered')
})

test('frames are read into typed values; malformed ones are ignored', () => {
  const ack = parseFrame('{"type":"ack","request_id":"c1","topic":"t","epoch":"e","seq":7,"replayed":2,"recovered":true,"status":"ok","ts":"x"}')
  assert.equal(ack?.type, 'ack')
  assert.deepEqual(toSubscribeAck(ack as AckFrame), { epoch: 'e', seq: 7, replayed: 2, recovered: true, reason: undefined })
  assert.deepEqual(parseFrame('{"type":"event","topic":"t","seq":3,"message":{"id":"m","payload":[1]},"ts":"x"}'),
    { type: 'event', topic: 't', seq: 3, id: 'm', payload: [1], ts: 'x' })
  assert.deepEqual(parseFrame('{"type":"error","request_id":"c2","error":{"code":"TOPIC_NOT_FOUND","message":"no"}}'),
    { type: 'error', requestId: 'c2', code: 'TOPIC_NOT_FOUND', message: 'no' })
  for (const bad of ['', 'nope', '[]', '{"type":"event","topic":"t","seq":-1,"message":{"id":"m"}}', '{"type":"event","topic":"t","seq":1.5,"message":{"id":"m"}}',
    '{"type":"ack"}', '{"type":"info","topic":"t"}', '{"type":"hello"}']) {
    assert.equal(parseFrame(bad), undefined, bad)
  }
})

test('an ack without the fields a subscribe or publish needs is unusable, not misread', () => {
  const base: AckFrame = { type: 'ack', requestId: 'c1' }
  assert.equal(toSubscribeAck({ ...base, seq: 3, replayed: 0 }), undefined)
  assert.equal(toSubscribeAck({ ...base, epoch: 'e', seq: 3, replayed: 4 }), undefined)
  assert.equal(toPublishAck({ ...base, messageId: 'm', seq: 3 }), undefined)
  assert.deepEqual(toPublishAck({ ...base, messageId: 'm', seq: 3, epoch: 'e' }), { messageId: 'm', seq: 3, epoch: 'e' })
})

test('a resume is encoded as since_seq and epoch next to the last_n fallback', () => {
  assert.deepEqual(JSON.parse(encodeRequest({ type: 'subscribe', topic: 't', lastN: 5, since: { epoch: 'e', seq: 9 } }, 'c3')),
    { type: 'subscribe', topic: 't', last_n: 5, since_seq: 9, epoch: 'e', request_id: 'c3' })
  assert.deepEqual(JSON.parse(encodeRequest({ type: 'subscribe', topic: 't' }, 'c4')), { type: 'subscribe', topic: 't', request_id: 'c4' })
  assert.deepEqual(JSON.parse(encodeRequest({ type: 'publish', topic: 't', id: 'x', payload: { a: 1 } }, 'c5')),
    { type: 'publish', topic: 't', message: { id: 'x', payload: { a: 1 } }, request_id: 'c5' })
})
