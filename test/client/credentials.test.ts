import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient, type ClientOptions } from '../../src/client/index.js'
import { startServer, within } from '../helpers.js'
import { entered } from './watch.js'

const KEY = 'client-test-key'

for (const credentialIn of ['header', 'query'] as const) {
  test(`an API key in the ${credentialIn} opens the connection`, async (t) => {
    const server = await startServer(t, { apiKey: KEY })
    const client = createClient(server.wsUrl, { apiKey: KEY, credentialIn })
    t.after(() => client.close())
    await entered(client, 'connected')
  })
}

test('a refused key is reported on every attempt, and the client keeps trying', async (t) => {
  const server = await startServer(t, { apiKey: KEY })
  const options: ClientOptions = { apiKey: 'wrong', credentialIn: 'header', backoff: { minDelayMs: 50, maxDelayMs: 100 } }
  const client = createClient(server.wsUrl, options)
  t.after(() => client.close())
  const errors: string[] = []
  const third = within(new Promise<void>((resolve) => client.on('error', (error) => {
    errors.push(error.message)
    if (errors.length === 3) resolve()
  })), 'three refusals')
  await third
  assert.match(errors[0] ?? '', /401/)
  assert.notEqual(client.state, 'connected')
})
