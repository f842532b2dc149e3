import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient } from '../../src/client/browser.js'
import { fakeWebSocket } from './fake-socket.js'

type Order = { item: string; price: number }
type Topics = { orders: Order; [region: `alerts.${string}`]: { level: 'info' | 'page' } }

// Checked by `npm run typecheck`: each @ts-expect-error fails the check if the line compiles.
test('a declared topic map types payloads in callbacks and publishes', async (t) => {
  const fake = fakeWebSocket()
  const client = createClient<Topics>('ws://pubsub.test/ws', { WebSocket: fake.WebSocket, requestTimeoutMs: 20 })
  t.after(() => client.close())
  const prices: number[] = []
  client.subscribe('orders', (event) => prices.push(event.payload.price))
  client.subscribe('alerts.eu', (event) => assert.ok(event.payload.level === 'page' || event.payload.level === 'info'))
  // @ts-expect-error: no such topic in the map
  client.subscribe('order', () => {}).unsubscribe()
  // @ts-expect-error: price must be a number
  void client.publish('orders', { item: 'mouse', price: '49.99' }).catch(() => {})
  const socket = await fake.nextSocket()
  socket.open()
  const request = await socket.next()
  socket.receive({ type: 'ack', request_id: request.request_id, topic: 'orders', epoch: 'e', seq: 0, replayed: 0 })
  socket.event('orders', 1, { item: 'mouse', price: 49.99 })
  assert.deepEqual(prices, [49.99])
})
