import assert from 'node:assert/strict'
import test from 'node:test'
import { connect, createTopic, startServer } from './helpers.js'

test('a payload nested too deeply to encode is refused without burning a seq', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'deep')
  const client = await connect(t, server.wsUrl)
  client.send({ type: 'subscribe', topic: 'deep' })
  assert.equal((await client.next()).type, 'ack')
  const nested = '['.repeat(50_000) + ']'.repeat(50_000)
  client.send(`{"type":"publish","topic":"deep","request_id":"deep-1","message":{"payload":${nested}}}`)
  const refused = await client.next()
  assert.equal(refused.type, 'error')
  assert.equal(refused.request_id, 'deep-1')
  assert.equal(refused.error?.code, 'BAD_REQUEST')
  client.send({ type: 'publish', topic: 'deep', message: { payload: 1 } })
  const event = await client.next()
  assert.equal(event.type, 'event')
  assert.equal(event.seq, 1, 'the refused publish took a seq, leaving a gap')
  assert.deepEqual(server.logs.filter((line) => line.includes('"level":"error"')), [])
})
