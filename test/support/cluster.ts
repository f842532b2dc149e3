import type { TestContext } from 'node:test'
import { startServer, type TestServer } from '../helpers.js'
import type { ServerOptions } from '../../src/server.js'
import { startRedis, type RedisSettings, type TestRedis } from './redis-server.js'

/** A redis-server of the test's own and `nodes` in-process servers on it; all stopped after the test. */
export async function startCluster(
  t: TestContext,
  nodes: number,
  options: ServerOptions = {},
  redisSettings: RedisSettings = {},
): Promise<{ redis: TestRedis; nodes: TestServer[] }> {
  const redis = await startRedis(redisSettings)
  // Registered first, so it runs last: the nodes close before their Redis goes.
  t.after(() => redis.stop())
  const started = await Promise.all(Array.from({ length: nodes }, () => startServer(t, { redisUrl: redis.url, ...options })))
  return { redis, nodes: started }
}
