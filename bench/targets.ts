import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DialectName } from './lib/dialect.js'

export type TargetName = 'pubsub' | 'ws-corked' | 'ws-plain' | 'socketio' | 'cluster-1' | 'cluster-2' | 'cluster-3' | 'cluster-3-by-topic' | 'reference' | 'reference-cluster-1' | 'reference-cluster-3'

export type TargetSpec = {
  name: TargetName
  label: string
  command: string[]
  env: Record<string, string>
  dialect: DialectName
  /** Set: a cluster of this many nodes (each `command`, with REDIS_URL) on one redis-server of the run's own. */
  nodes?: number
  /**
   * Set: all the subscribers of a topic connect to one node, so that each
   * node follows only its share of the topics. Otherwise each topic's
   * subscribers are spread over every node, and every node follows every topic.
   */
  subscribersByTopic?: true
  /**
   * Set: measured to compare with, not one of the targets, so it runs
   * only when named and is neither judged nor used for the 16-core estimate.
   */
  comparisonOnly?: true
  /** The one-node cluster its cost is compared with: `cluster-1` unless set. */
  oneNode?: TargetName
}

/** Relative to the working directory (as `dist/main.js` is), so results name no machine's folders. */
const baseline = (file: string, ...args: string[]): string[] =>
  [process.execPath, relative(process.cwd(), fileURLToPath(new URL(`./servers/${file}`, import.meta.url))), ...args]

const PRODUCTION = { NODE_ENV: 'production' }

/** What `npm start` runs once it has compiled (`exec node <flags> dist/main.js`), with this node. */
export function startCommand(): string[] {
  const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }
  const [program, ...args] = (scripts.start.split('&&').at(-1) ?? '').trim().replace(/^exec\s+/, '').split(/\s+/)
  if (program !== 'node') throw new Error(`npm start should end with a node command: ${scripts.start}`)
  return [process.execPath, ...args]
}

/** The service as a user runs it (compiled, warn-level logs) and the three baselines. */
export const TARGETS: readonly TargetSpec[] = [
  {
    name: 'pubsub',
    label: 'this service',
    command: startCommand(),
    env: { ...PRODUCTION, LOG_LEVEL: 'warn' },
    dialect: 'pubsub',
  },
  { name: 'ws-corked', label: 'ws, corked (ceiling)', command: baseline('ws-server.js', '--corked'), env: PRODUCTION, dialect: 'pubsub' },
  { name: 'ws-plain', label: 'ws, plain', command: baseline('ws-server.js'), env: PRODUCTION, dialect: 'pubsub' },
  { name: 'socketio', label: 'socket.io rooms', command: baseline('socketio-server.js'), env: PRODUCTION, dialect: 'socketio' },
]

export const CEILING: TargetName = 'ws-corked'

/** The in-memory service: what the cluster targets and a reference build are compared with. */
export const IN_MEMORY: TargetName = 'pubsub'

const clusterOf = (nodes: 1 | 2 | 3): TargetSpec => ({
  name: `cluster-${nodes}`,
  label: `cluster, ${nodes} node${nodes === 1 ? '' : 's'}`,
  command: startCommand(),
  env: { ...PRODUCTION, LOG_LEVEL: 'warn' },
  dialect: 'pubsub',
  nodes,
})

/** One, two and three nodes of the service on one Redis; they run only where redis-server is installed. */
export const CLUSTER_TARGETS: readonly TargetSpec[] = [clusterOf(1), clusterOf(2), clusterOf(3)]

/**
 * Three nodes with each topic's subscribers on one of them: what routing
 * subscribers by topic saves. Not one of the targets, so it runs
 * only when named (`--targets cluster-3-by-topic`).
 */
export const BY_TOPIC_TARGET: TargetSpec = {
  ...clusterOf(3),
  name: 'cluster-3-by-topic',
  label: 'cluster, 3 nodes, subscribers by topic',
  subscribersByTopic: true,
  comparisonOnly: true,
}

export const hasRedisServer = (): boolean => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0

/**
 * The service as built in another checkout (`--reference DIR`, holding a
 * `dist/` and `openapi.yaml` like this one): the same command and settings,
 * to compare a change with the code before it in one run; in memory, and as
 * clusters of one and three nodes when named.
 */
export function referenceTargets(dir: string): TargetSpec[] {
  const command = startCommand().map((part) => (part.endsWith('dist/main.js') ? join(dir, part) : part))
  const clusterOfReference = (nodes: 1 | 3): TargetSpec =>
    ({ ...clusterOf(nodes), name: `reference-cluster-${nodes}`, label: `reference build, ${nodes} node${nodes === 1 ? '' : 's'}`, command, comparisonOnly: true, oneNode: 'reference-cluster-1' })
  return [
    { name: 'reference', label: 'reference build', command, env: { ...PRODUCTION, LOG_LEVEL: 'warn' }, dialect: 'pubsub' },
    clusterOfReference(1),
    clusterOfReference(3),
  ]
}
