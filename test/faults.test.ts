import assert from 'node:assert/strict'
import test from 'node:test'
import { startServer } from './helpers.js'
import { openSocket, parseResponse, readUntilClosed } from './raw-socket.js'
import { assertProblemDocument } from './wire-checks.js'

test('a request the HTTP parser rejects gets a problem document and the connection is closed', async (t) => {
  const server = await startServer(t)
  for (const bytes of ['FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 'GET /\x00 HTTP/1.1\r\n\r\n']) {
    const socket = await openSocket(t, server.address.port)
    socket.write(bytes)
    const reply = parseResponse(await readUntilClosed(socket, `the answer to ${JSON.stringify(bytes)}`))
    assert.equal(reply.status, 400, JSON.stringify(bytes))
    assertProblemDocument(reply.status, reply.headers.get('content-type'), reply.body)
  }
})
