import { startRedisServer, type RedisServer } from '../../test/support/redis-server.js'
import type { TargetSpec } from '../targets.js'
import type { Target } from './messages.js'
import { startServerProcess, type ServerProcess } from './proc.js'

/**
 * What one run measures: a single server process, or a cluster of node
 * processes on a redis-server of their own (started for the run, without
 * persistence, and stopped with it). The server's cost is the CPU of all
 * of them together.
 */
export type Deployment = {
  target: Target
  nodes: ServerProcess[]
  redis: RedisServer | undefined
  /** Every process whose CPU is the server's: the nodes, and redis-server in a cluster. */
  pids: number[]
  stop(): Promise<void>
}

export async function startDeployment(spec: TargetSpec): Promise<Deployment> {
  const redis = spec.nodes === undefined ? undefined : await startRedisServer()
  const env = redis ? { ...spec.env, REDIS_URL: redis.url } : spec.env
  const nodes: ServerProcess[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()))
    await redis?.stop()
  }
  try {
    for (let i = 0; i < (spec.nodes ?? 1); i++) nodes.push(await startServerProcess(spec.command, env))
  } catch (error) {
    await stop()
    throw error
  }
  return {
    target: { host: '127.0.0.1', ports: nodes.map((node) => node.port), dialect: spec.dialect, ...(spec.subscribersByTopic && { subscribersByTopic: true }) },
    nodes,
    redis,
    pids: [...nodes.map((node) => node.pid), ...(redis ? [redis.pid] : [])],
    stop,
  }
}
