import type { TestContext } from 'node:test'
import { spawnServer, type ServerProcess } from '../child.js'
import { startServer, type Client, type TestServer } from '../helpers.js'
import { SeqLedger } from '../seq-ledger.js'
import type { ServerOptions } from '../../src/server.js'
import { startRedisServer, type RedisOptions, type RedisServer } from './redis-server.js'

/** A redis-server of the test's own and `nodes` in-process servers on it; all stopped after the test. */
export async function startCluster(
  t: TestContext,
  nodes: number,
  options: ServerOptions = {},
  redisOptions: RedisOptions = {},
): Promise<{ redis: RedisServer; nodes: TestServer[] }> {
  const redis = await startRedisServer(redisOptions)
  // Registered first, so it runs last: the nodes close before their Redis goes.
  t.after(() => redis.stop())
  const started = await Promise.all(Array.from({ length: nodes }, () => startServer(t, { redisUrl: redis.url, ...options })))
  return { redis, nodes: started }
}

/** A cluster node as a process of its own (so that it can be killed or stopped), on `redisUrl`. */
export function spawnNode(t: TestContext, redisUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  return spawnServer(t, { env: { REDIS_URL: redisUrl, LOG_LEVEL: 'info', ...env } })
}

/**
 * Reads a subscriber's frames up to the event `lastSeq`, checking that each
 * event follows the one before (from `afterSeq`), or up to an `info` ending the
 * subscription; returns that info's msg, if any.
 */
export async function readThrough(client: Client, topic: string, afterSeq: number, lastSeq: number): Promise<{ ledger: SeqLedger; ended?: string }> {
  const ledger = new SeqLedger()
  ledger.expect(topic, afterSeq)
  while ((ledger.last(topic) ?? 0) < lastSeq) {
    const frame = await client.next()
    if (frame.type === 'info' && frame.topic === topic) return { ledger, ended: frame.msg }
    if (frame.type === 'event') ledger.record(frame)
  }
  return { ledger }
}
