import assert from 'node:assert/strict'
import { test } from 'node:test'
import { channelMessage, publishReply, readReply, type TextRun } from '../../src/cluster/replies.js'

const b = (text: string): Buffer => Buffer.from(text)
const textsOf = ({ bytes, offsets }: TextRun): string[] => offsets.slice(1).map((end, i) => bytes.toString('utf8', offsets[i], end))

test('a channel message is a run of events (epoch, first seq, exact bytes of each text after the seq) or a deletion', () => {
  const texts = [',"message":{"id":"a b","payload":"é"},"ts":"x"}', ',"m":13}', ',"p":"1,2 3"}']
  const lengths = texts.map((t) => Buffer.byteLength(t)).join(',')
  const events = channelMessage(b(`Ab-3.x 12 ${lengths} ${texts.join('')}`))
  assert.ok(events?.kind === 'events')
  assert.deepEqual([events.epoch, events.first, textsOf(events.afterSeqs)], ['Ab-3.x', 12, texts])
  const one = channelMessage(b(`e 1 ${Buffer.byteLength(texts[0] as string)} ${texts[0]}`))
  assert.ok(one?.kind === 'events')
  assert.deepEqual(textsOf(one.afterSeqs), [texts[0]])
  assert.deepEqual(channelMessage(b('Ab-3.x deleted')), { kind: 'deleted', epoch: 'Ab-3.x' })
})

test('anything else on a channel is not read as a message', () => {
  const bad = [
    '', ' 1 2 {}', 'e', 'e other', 'e 0 2 {}', 'e -1 2 {}', 'e 1.5 2 {}', 'e x 2 {}', 'e 1 {}',
    'e 1 3 {}', 'e 1 1 {}', 'e 1 0 ', 'e 1 2,2 {}', 'e 1 2, {}', 'e 1 ,2 {}', 'e 1 x {}', 'e 1 2 {}{',
    'e 1  {}', 'e 1 2,,2 {}{}', 'e 1 -2 {}', 'e 1 1.0 {}', 'e 1 1000000000 {}',
  ]
  for (const message of bad) assert.equal(channelMessage(b(message)), undefined, JSON.stringify(message))
})

test('script replies are read into typed values, nil as absent', () => {
  assert.equal(readReply(null), undefined)
  assert.deepEqual(readReply([b('ep'), b('7'), [[b('6-0'), [b('d'), b('six')]], [b('7-0'), [b('d'), b('seven')]]], 3, 2]), {
    epoch: 'ep', head: 7, subscribers: 3, held: 2,
    events: [{ seq: 6, afterSeq: b('six') }, { seq: 7, afterSeq: b('seven') }],
  })
  assert.deepEqual(publishReply([b('ep'), 8, 0]), { epoch: 'ep', seq: 8, subscribers: 0 })
  assert.deepEqual(publishReply([b('ep'), 8]), { epoch: 'ep', seq: 8 })
  assert.equal(publishReply(null), undefined)
})

test('a reply of another shape is a bug and throws, naming what was wrong', () => {
  assert.throws(() => readReply([b('ep'), b('x'), [], 0, 0]), /the head seq is not a count/)
  assert.throws(() => readReply('ok'), /a topic read is not an array/)
  assert.throws(() => publishReply([1, b('1'), 0]), /the epoch is not a string/)
})
