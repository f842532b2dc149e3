import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { connect, type Client, type TestServer } from './helpers.js'
import { SeqLedger } from './seq-ledger.js'
import { parseServerFrame } from './wire-checks.js'

/** What the fuzz properties share: the subscriber on the side and the prototype check. */

/** Long generated strings fan out to every subscriber; a roomy queue keeps the slow-consumer rule out of the fuzz properties. */
export const ROOMY_QUEUE = 256 * 1024 * 1024

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype]
export const snapshotPrototypes = (): string[][] => PROTOTYPES.map((p) => Reflect.ownKeys(p).map(String).sort())

export function assertNoPollution(before: string[][]): void {
  assert.deepEqual(snapshotPrototypes(), before, 'a built-in prototype gained or lost a property')
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted')
}

/** A publish the server acknowledged: the side subscriber must have received exactly this. */
export type Acked = { topic: string; seq: number; id: string }

/** A subscriber on every live topic that must see each acknowledged event once, in order. */
export async function watchAllTopics(t: TestContext, server: TestServer, topics: readonly string[]): Promise<{ client: Client; ledger: SeqLedger }> {
  const client = await connect(t, server.wsUrl)
  const ledger = new SeqLedger()
  for (const topic of topics) {
    client.send({ type: 'subscribe', topic })
    assert.equal((await client.next()).type, 'ack')
    ledger.expect(topic, 0)
  }
  return { client, ledger }
}

/** Reads the side subscriber up to a ping barrier, every frame checked for shape, and fails unless each acked event arrived. */
export async function confirmDelivered(side: { client: Client; ledger: SeqLedger }, acked: Acked[]): Promise<void> {
  for (const frame of await side.client.drain(parseServerFrame)) {
    assert.equal(frame.type, 'event', `side subscriber got ${frame.type}`)
    side.ledger.record(frame)
  }
  for (const { topic, seq, id } of acked) side.ledger.assertReceived(topic, seq, id)
}
