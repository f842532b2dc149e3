import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { connect, createTopic, request, subscribedClient, WAIT_MS } from './helpers.js'
import { SeqLedger } from './seq-ledger.js'

/** What the fault tests share: a pair of well-behaved clients to prove service goes on, and waits on server state. */

/**
 * Polls `check` until it holds: for server-side state (a connection the server
 * has dropped) that no client event reports. Bounded by WAIT_MS.
 */
export async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export const health = async (base: string): Promise<{ connections: number; subscribers: number }> =>
  (await request(base, 'GET', '/health')).body as { connections: number; subscribers: number }

/** Creates `topic` with a subscriber and a publisher on it; `roundTrip()` proves both are still served, with nothing lost. */
export async function healthyPair(
  t: TestContext,
  server: { url: string; wsUrl: string },
  topic: string,
): Promise<{ roundTrip(): Promise<void>; ledger: SeqLedger }> {
  await createTopic(server.url, topic)
  const subscriber = await subscribedClient(t, server.wsUrl, topic)
  const publisher = await connect(t, server.wsUrl)
  const ledger = new SeqLedger()
  ledger.expect(topic, 0)
  const roundTrip = async (): Promise<void> => {
    publisher.send({ type: 'publish', topic, message: { payload: 'still served' } })
    const ack = await publisher.next()
    assert.equal(ack.type, 'ack', `publish failed: ${JSON.stringify(ack)}`)
    const event = await subscriber.next()
    ledger.record(event)
    ledger.assertReceived(topic, ack.seq ?? 0, ack.message_id ?? '')
  }
  return { roundTrip, ledger }
}

