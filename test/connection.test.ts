import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connectionFor, fakeClient } from './support/fake-connection.js'

test('frames held in a turn go out, joined, before a close made in that same turn', () => {
  const client = fakeClient()
  const connection = connectionFor(client)
  connection.send(Buffer.from('one'))
  connection.send(Buffer.from('two'))
  assert.deepEqual(client.wire, [], 'frames are held until the turn ends')
  connection.close(1001, 'shutting down')
  assert.deepEqual(client.wire, [{ write: 'onetwo' }, { close: 1001 }])
})

test('frames held when the connection is no longer open are dropped, never written after the close', async () => {
  const client = fakeClient()
  const connection = connectionFor(client)
  connection.send(Buffer.from('late'))
  client.ws.close(1000) // as ws does when the client closes first
  await new Promise<void>((resolve) => setImmediate(resolve))
  assert.deepEqual(client.wire, [{ close: 1000 }])
})
