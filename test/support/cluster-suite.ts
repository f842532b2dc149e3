import assert from 'node:assert/strict'
import { after } from 'node:test'
import { runAsCluster } from '../helpers.js'
import { redisCli } from './redis-cli.js'
import { startRedisServer } from './redis-server.js'

/**
 * Turns the suite imported next into a cluster suite: one redis-server for the
 * file, and every startServer three nodes on it (see runAsCluster).
 */
export async function asThreeNodeCluster(): Promise<void> {
  const redis = await startRedisServer()
  after(async () => {
    // Proof that the suite ran on Redis: its servers' topics were kept there.
    const created = Number(await redisCli(redis.port, 'EVAL', "return #redis.call('KEYS', '{test*}:topics-created')", '0'))
    await redis.stop()
    assert.ok(created > 0, 'no server of the suite kept its topics in Redis')
  })
  runAsCluster(redis.url, 3)
}
