import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Outbox, type Batch } from '../../src/cluster/outbox.js'

/** A batch's texts, read back from its Buffer by their byte lengths. */
function textsOf(batch: Batch): string[] {
  let at = 0
  return batch.lengths.map((length) => batch.texts.toString('utf8', at, (at += length)))
}

/** A publish in these tests: the promise that its seq settles. */
type Waiting = { resolve(seq: number): void; reject(error: unknown): void }

/** An outbox whose sends are recorded and answered by `answer` (the batch's first seq here). */
function recordingOutbox(answer: (batch: Batch) => Promise<number> = async () => 1) {
  const sends: { topic: string; afterSeqs: string[]; countSubscribers: boolean }[][] = []
  const outbox = new Outbox<number, Waiting>((batches) => {
    sends.push(batches.map((b) => ({ topic: b.topic, afterSeqs: textsOf(b), countSubscribers: b.countSubscribers })))
    const outcomes = batches.map(answer)
    return { outcomes, answered: Promise.allSettled(outcomes) }
  }, {
    settle: (publish, first, place) => publish.resolve(first + place),
    fail: (publish, error) => publish.reject(error),
  })
  return { outbox, sends }
}

/** Adds a publish; resolves with its seq (first seq + place), rejects with its batch's failure. */
const publish = (outbox: Outbox<number, Waiting>, topic: string, after: string, count = false): Promise<number> =>
  new Promise((resolve, reject) => outbox.add(topic, after, count, { resolve, reject }))

test('the publishes of one turn leave as one batch per topic, in call order, at the end of the turn', async () => {
  const { outbox, sends } = recordingOutbox()
  const seqs = Promise.all([publish(outbox, 'a', 'a1'), publish(outbox, 'b', 'b1', true), publish(outbox, 'a', 'a2'), publish(outbox, 'a', 'a3')])
  assert.equal(sends.length, 0, 'nothing leaves before the turn ends')
  assert.deepEqual(await seqs, [1, 1, 2, 3])
  assert.deepEqual(sends, [[
    { topic: 'a', afterSeqs: ['a1', 'a2', 'a3'], countSubscribers: false },
    { topic: 'b', afterSeqs: ['b1'], countSubscribers: true },
  ]])
})

test('texts of any size and script keep their bytes as the batch grows', async () => {
  const { outbox, sends } = recordingOutbox()
  const texts = Array.from({ length: 60 }, (_, i) => `${i}:${'é€😀x'.repeat(i * 7)}`)
  await Promise.all(texts.map((text) => publish(outbox, 't', text)))
  assert.deepEqual(sends.map((s) => s.map((b) => b.afterSeqs)), [[texts]])
})

test('flush sends what is open at once, and the next publish opens a new batch', async () => {
  const { outbox, sends } = recordingOutbox()
  const first = publish(outbox, 'a', 'a1')
  outbox.flush()
  assert.equal(sends.length, 1)
  const second = publish(outbox, 'a', 'a2')
  assert.deepEqual(await Promise.all([first, second]), [1, 1])
  assert.deepEqual(sends.map((s) => s.map((b) => b.afterSeqs)), [[['a1']], [['a2']]])
})

test('a full batch leaves at once and its topic goes on in a new one', async () => {
  const { outbox, sends } = recordingOutbox()
  const seqs = Promise.all(Array.from({ length: 150 }, (_, i) => publish(outbox, 't', `e${i}`)))
  assert.equal(sends.length, 1, 'the first 100 events left without waiting for the turn to end')
  await seqs
  assert.deepEqual(sends.map((s) => s.map((b) => b.afterSeqs.length)), [[100], [50]])
})

test('a batch that fails fails each of its publishes, and only those', async () => {
  const { outbox } = recordingOutbox(async (batch) => {
    if (batch.topic === 'bad') throw new Error('unreadable reply')
    return 7
  })
  const results = await Promise.allSettled([publish(outbox, 'bad', 'x'), publish(outbox, 'good', 'y'), publish(outbox, 'bad', 'z')])
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled', 'rejected'])
  assert.deepEqual(results[1], { status: 'fulfilled', value: 7 })
})

test('while Redis has not answered a round, the next publishes wait and then leave together', async () => {
  let answerFirst = (): void => {}
  const firstAnswered = new Promise<number>((resolve) => { answerFirst = () => resolve(1) })
  const { outbox, sends } = recordingOutbox((batch) => (textsOf(batch)[0] === 'a1' ? firstAnswered : Promise.resolve(2)))
  const first = publish(outbox, 'a', 'a1')
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(sends.length, 1, 'the first round left at the end of its turn')
  const later = [publish(outbox, 'a', 'a2'), publish(outbox, 'b', 'b1')]
  await new Promise((resolve) => setImmediate(resolve))
  const alsoLater = publish(outbox, 'a', 'a3')
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(sends.length, 1, 'nothing more left while the first round was unanswered')
  answerFirst()
  assert.deepEqual(await Promise.all([first, ...later, alsoLater]), [1, 2, 2, 3])
  assert.deepEqual(sends.map((s) => s.map((b) => b.afterSeqs)), [[['a1']], [['a2', 'a3'], ['b1']]])
})
