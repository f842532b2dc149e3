import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { connect, createTopic, request } from '../helpers.js'

/**
 * Checks what a freshly deployed server at `url` must serve: /health, the docs and console
 * pages with their assets, the spec, and a message published over REST reaching a WebSocket subscriber.
 */
export async function checkServes(t: TestContext, url: string): Promise<void> {
  assert.equal((await request(url, 'GET', '/health')).status, 200)
  assert.equal((await request(url, 'GET', '/docs')).status, 200)
  assert.equal((await request(url, 'GET', '/docs/swagger-ui-bundle.js')).status, 200)
  assert.equal((await request(url, 'GET', '/openapi.json')).status, 200)
  assert.equal((await request(url, 'GET', '/console')).status, 200)
  assert.equal((await request(url, 'GET', '/console/uPlot.iife.min.js')).status, 200)

  await createTopic(url, 'orders')
  const client = await connect(t, `${url.replace('http', 'ws')}/ws`)
  client.send({ type: 'subscribe', topic: 'orders', request_id: 'sub-1' })
  assert.equal((await client.next()).type, 'ack')
  const published = await request(url, 'POST', '/topics/orders/messages', { payload: { item: 'Mouse' } })
  assert.equal(published.status, 200)
  const event = await client.next()
  assert.equal(event.type, 'event')
  assert.deepEqual(event.message?.payload, { item: 'Mouse' })
}
