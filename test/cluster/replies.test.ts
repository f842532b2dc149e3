import assert from 'node:assert/strict'
import { test } from 'node:test'
import { channelMessage, publishReply, readReply } from '../../src/cluster/replies.js'

const b = (text: string): Buffer => Buffer.from(text)

test('a channel message is an event (epoch, seq, exact text bytes) or a deletion', () => {
  const text = '{"type":"event","topic":"t","seq":12,"message":{"id":"a b","payload":"é"},"ts":"x"}'
  const event = channelMessage(b(`Ab-3.x 12 ${text}`))
  assert.equal(event?.kind, 'event')
  assert.ok(event?.kind === 'event')
  assert.deepEqual([event.epoch, event.seq, event.text.toString()], ['Ab-3.x', 12, text])
  assert.deepEqual(channelMessage(b('Ab-3.x deleted')), { kind: 'deleted', epoch: 'Ab-3.x' })
})

test('anything else on a channel is not read as a message', () => {
  for (const bad of ['', ' 1 {}', 'e', 'e other', 'e 0 {}', 'e -1 {}', 'e 1.5 {}', 'e x {}']) {
    assert.equal(channelMessage(b(bad)), undefined, JSON.stringify(bad))
  }
})

test('script replies are read into typed values, nil as absent', () => {
  assert.equal(readReply(null), undefined)
  assert.deepEqual(readReply([b('ep'), b('7'), [[b('6-0'), [b('d'), b('six')]], [b('7-0'), [b('d'), b('seven')]]], 3, 2]), {
    epoch: 'ep', head: 7, subscribers: 3, held: 2,
    events: [{ seq: 6, text: b('six') }, { seq: 7, text: b('seven') }],
  })
  assert.deepEqual(publishReply([b('ep'), b('8'), 0]), { epoch: 'ep', seq: 8, subscribers: 0 })
  assert.equal(publishReply(null), undefined)
})

test('a reply of another shape is a bug and throws, naming what was wrong', () => {
  assert.throws(() => readReply([b('ep'), b('x'), [], 0, 0]), /the head seq is not a count/)
  assert.throws(() => readReply('ok'), /a topic read is not an array/)
  assert.throws(() => publishReply([1, b('1'), 0]), /the epoch is not a string/)
})
