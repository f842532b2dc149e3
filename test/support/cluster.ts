import type { TestContext } from 'node:test'
import { startServer, type TestServer } from '../helpers.js'
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
