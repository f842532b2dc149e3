import assert from 'node:assert/strict'
import { test } from 'node:test'
import { request, within } from './helpers.js'
import { runNode, spawnServer } from './child.js'

const badValues: [string, string][] = [
  ['PORT', '99999'],
  ['PORT', 'http'],
  ['HOST', ''],
  ['LOG_LEVEL', 'verbose'],
  ['MAX_HISTORY_PER_TOPIC', '-5'],
  ['HEARTBEAT_INTERVAL_MS', 'soon'],
  ['SHUTDOWN_TIMEOUT_MS', '2.5'],
  ['MAX_PAYLOAD_BYTES', '0'],
  ['MAX_BUFFERED_BYTES', '1MB'],
  ['MAX_TOPICS', '0'],
  ['MAX_SUBSCRIPTIONS_PER_CONNECTION', 'many'],
]

test('the CLI refuses each bad variable with exit code 1 and one line naming it', async (t) => {
  await Promise.all(badValues.map(async ([variable, value]) => {
    const run = runNode(t, { env: { [variable]: value } })
    const { code } = await within(run.exited, `the CLI to exit for ${variable}`, 15_000)
    assert.equal(code, 1, `${variable}=${value}`)
    assert.equal(run.stderr.length, 1, `one line for ${variable}: ${run.stderr.join(' | ')}`)
    assert.match(run.stderr[0] ?? '', new RegExp(`^invalid configuration: ${variable} must be `))
  }))
})

test('a bad configuration line never echoes the API key', async (t) => {
  const run = runNode(t, { env: { API_KEY: 'super-secret', PORT: 'nope' } })
  assert.equal((await within(run.exited, 'the CLI to exit', 15_000)).code, 1)
  assert.ok(!run.stderr.join('\n').includes('super-secret'))
  assert.ok(!run.stdout.join('\n').includes('super-secret'))
})

test('the CLI serves on the configured port, logs JSON lines and exits 0 on SIGTERM', async (t) => {
  const server = await spawnServer(t, { env: { API_KEY: 'super-secret' } })
  const res = await request(server.url, 'GET', '/health')
  assert.equal(res.status, 200)
  server.child.kill('SIGTERM')
  assert.equal((await within(server.exited, 'the server to exit', 15_000)).code, 0)
  const messages = server.stdout.map((text) => (JSON.parse(text) as { msg: string }).msg)
  assert.deepEqual(messages, ['listening', 'signal received: shutting down gracefully', 'shutting down', 'stopped'])
  assert.ok(!server.stdout.join('\n').includes('super-secret'))
})
