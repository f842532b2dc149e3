import type { LogLine } from '../helpers.js'
import { DeliveryChecker } from './checker.js'
import { SoakLoad } from './load.js'
import { SoakNodes } from './nodes.js'
import type { Memory } from './server.js'
import { delay } from './util.js'

/**
 * The soak: `npm run soak -- --seconds N [--nodes N]` (default 60 s, one
 * node). Publishers and subscribers over many topics with churn, slow
 * consumers and clients that never answer pings (see load.ts), against the
 * server in a child process. With `--nodes 3` it runs a cluster of three
 * nodes on a redis-server of its own, spreads the clients over them, and
 * kills one node (SIGKILL) a quarter into the measured part, starting it
 * again a second later: its subscribers resume on another node and must
 * still miss nothing. It prints a JSON report, then `soak passed`, or each
 * problem and exits 1: any lost, duplicated or reordered event, any INTERNAL
 * error or error log line, a connection left behind, or resident memory
 * after the run more than 10% above its level after warm-up (on every node
 * that ran the whole soak).
 */

const SERVER_ENV = {
  LOG_LEVEL: 'info',
  HEARTBEAT_INTERVAL_MS: '5000',
  MAX_HISTORY_PER_TOPIC: '50',
  MAX_BUFFERED_BYTES: '262144',
}
/**
 * A cluster keeps more history: a subscriber whose node is killed resumes
 * from its last seq, and the events published while it moves must still be
 * held. 500 is several seconds of one topic's traffic here.
 */
const CLUSTER_ENV = { ...SERVER_ENV, MAX_HISTORY_PER_TOPIC: '500' }
const RSS_TOLERANCE = 0.1
/** How long a killed node stays down before it is started again. */
const DOWNTIME_MS = 1_000

/** The number after `flag`, or `fallback` when the flag is absent. */
function numberAfter(argv: string[], flag: string, fallback: number): number {
  const at = argv.indexOf(flag)
  return at === -1 ? fallback : Number(argv[at + 1])
}

function parseSeconds(argv: string[]): number {
  const seconds = numberAfter(argv, '--seconds', 60)
  if (!Number.isFinite(seconds) || seconds < 5) throw new Error('--seconds must be a number >= 5')
  return seconds
}

/** 1 is the in-memory server; more is a cluster. */
function parseNodes(argv: string[]): number {
  const nodes = numberAfter(argv, '--nodes', 1)
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error('--nodes must be an integer >= 1')
  return nodes
}

const mib = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MiB`

/** Polls /health until every connection is gone (slow and mute clients are dropped by the server); returns what is left. */
async function connectionsWhenQuiet(nodes: SoakNodes): Promise<number> {
  let connections = -1
  for (let waited = 0; waited < 15_000 && connections !== 0; waited += 100) {
    connections = await nodes.connections()
    if (connections !== 0) await delay(100)
  }
  return connections
}

/** What happened to the node the soak killed, in seconds from the start of the load. */
type Kill = { node: string; killedAt: number; restartedAt: number }

type Run = {
  load: SoakLoad; checker: DeliveryChecker; logs: LogLine[]; nodes: number; kill: Kill | undefined
  /** Memory after warm-up of every node then running, and after the run of each node that ran the whole soak. */
  warm: Map<string, Memory>; after: Map<string, Memory>
  seconds: number; warmupSeconds: number; acksAtWarm: number; connectionsLeft: number
}

const growth = (run: Run, node: string): number => ((run.after.get(node)?.rss ?? 0) / (run.warm.get(node)?.rss ?? 1)) - 1

/** Memory readings of the nodes that ran the whole soak, keyed by what was read; one node's keys carry no node name. */
function memoryReport(run: Run): Record<string, number | string> {
  const fields: Record<string, number | string> = {}
  for (const [node, after] of run.after) {
    const warm = run.warm.get(node) as Memory
    const suffix = run.nodes === 1 ? '' : `_${node.replace('-', '_')}`
    Object.assign(fields, {
      [`rss_after_warmup${suffix}`]: mib(warm.rss),
      [`rss_after_run${suffix}`]: mib(after.rss),
      [`rss_change_percent${suffix}`]: Number((growth(run, node) * 100).toFixed(1)),
      [`heap_used_after_warmup${suffix}`]: mib(warm.heapUsed),
      [`heap_used_after_run${suffix}`]: mib(after.heapUsed),
      [`heap_total_after_warmup${suffix}`]: mib(warm.heapTotal),
      [`heap_total_after_run${suffix}`]: mib(after.heapTotal),
      [`external_after_warmup${suffix}`]: mib(warm.external),
      [`external_after_run${suffix}`]: mib(after.external),
    })
  }
  return fields
}

function clusterReport(run: Run): Record<string, number | string> {
  if (!run.kill) return {}
  const { tally } = run.load
  return {
    nodes: run.nodes,
    node_killed: run.kill.node,
    node_killed_at_second: Number(run.kill.killedAt.toFixed(1)),
    node_restarted_at_second: Number(run.kill.restartedAt.toFixed(1)),
    clients_moved_to_another_node: tally.reconnects,
    subscriptions_resumed: tally.resumes,
    subscriptions_resumed_and_recovered: tally.resumesRecovered,
    subscriptions_cut_with_their_node: tally.subscriptionsCut,
    publishes_unanswered_when_their_node_died: tally.publishesUnanswered,
  }
}

function report(run: Run): Record<string, number | string> {
  const { load, checker } = run
  return {
    seconds: Number(run.seconds.toFixed(1)),
    ...clusterReport(run),
    publishes_acknowledged: checker.publishesAcked,
    publishes_per_second_after_warmup: Math.round((checker.publishesAcked - run.acksAtWarm) / (run.seconds - run.warmupSeconds)),
    events_checked: checker.eventsChecked,
    subscriptions_checked: checker.segmentsChecked,
    churn_subscribers: load.counts.churnSubscribers,
    topics_created_and_deleted: load.counts.topicsCreated,
    publishes_refused_for_deleted_topic: load.tally.refusedForDeletedTopic,
    slow_consumers_started: load.counts.slowConsumers,
    slow_consumers_dropped: load.counts.slowDropped,
    slow_consumers_not_judged: load.counts.slowNotJudged,
    slow_consumers_dropped_as_slow: run.logs.filter((line) => line.msg === 'slow consumer disconnected').length,
    mute_clients_started: load.counts.muteClients,
    mute_clients_terminated: load.counts.muteTerminated,
    internal_errors: load.tally.internalErrors,
    server_error_lines: run.logs.filter((line) => line.level === 'error').length,
    messages_lost: checker.lost,
    duplicated_or_reordered: checker.misordered,
    problems: checker.failures.length,
    connections_left: run.connectionsLeft,
    ...memoryReport(run),
  }
}

function problems(run: Run): string[] {
  const grown = [...run.after.keys()].filter((node) => growth(run, node) > RSS_TOLERANCE)
  const where = (node: string): string => (run.nodes === 1 ? '' : ` on ${node}`)
  return [
    ...run.checker.failures,
    ...run.logs.filter((line) => line.level === 'error').map((line) => `server logged an error: ${JSON.stringify(line).slice(0, 300)}`),
    ...(run.load.tally.internalErrors > 0 ? [`${run.load.tally.internalErrors} INTERNAL errors`] : []),
    ...grown.map((node) => `resident memory grew ${(growth(run, node) * 100).toFixed(1)}%${where(node)} (limit ${RSS_TOLERANCE * 100}%)`),
    ...(run.kill && run.load.tally.resumes === 0 && run.load.tally.subscriptionsCut === 0 ? ['the killed node held no subscription: the kill checked nothing'] : []),
    ...(run.connectionsLeft !== 0 ? [`${run.connectionsLeft} connections left after every client closed`] : []),
    ...(run.checker.publishesAcked === 0 ? ['no publish was acknowledged'] : []),
  ]
}

async function main(): Promise<void> {
  const seconds = parseSeconds(process.argv)
  const nodeCount = parseNodes(process.argv)
  // Warm-up covers several lifetimes of every kind of client, so the load has its full shape when memory is first read.
  const warmupMs = Math.max(10_000, seconds * 250)
  const env = nodeCount === 1 ? SERVER_ENV : CLUSTER_ENV
  const nodes = await SoakNodes.start(nodeCount, env)
  const checker = new DeliveryChecker()
  const target = { nodes, heartbeatIntervalMs: Number(env.HEARTBEAT_INTERVAL_MS), historySize: Number(env.MAX_HISTORY_PER_TOPIC) }
  const load = new SoakLoad(target, checker)
  await load.start()
  const began = performance.now()
  const elapsed = (): number => (performance.now() - began) / 1_000
  await delay(warmupMs)
  const warm = await nodes.measureSurvivors()
  const acksAtWarm = checker.publishesAcked
  let kill: Kill | undefined
  if (nodes.clustered) {
    const measuredMs = seconds * 1_000 - warmupMs
    await delay(measuredMs / 4)
    const killed = await nodes.killOne()
    const killedAt = elapsed()
    await delay(DOWNTIME_MS)
    await nodes.restartKilled()
    kill = { node: killed.name, killedAt, restartedAt: elapsed() }
  }
  await delay(seconds * 1_000 - elapsed() * 1_000)
  const loadSeconds = load.stop()
  await load.windDown()
  const connectionsLeft = await connectionsWhenQuiet(nodes)
  const after = await nodes.measureSurvivors()
  const logs = nodes.logs()
  await nodes.stop()

  const run: Run = { load, checker, logs, nodes: nodeCount, kill, warm, after, seconds: loadSeconds, warmupSeconds: warmupMs / 1_000, acksAtWarm, connectionsLeft }
  process.stdout.write(JSON.stringify(report(run), null, 2) + '\n')
  const found = problems(run)
  for (const problem of found) process.stdout.write(`FAIL ${problem}\n`)
  process.stdout.write(found.length === 0 ? 'soak passed\n' : `soak failed: ${found.length} problems\n`)
  process.exitCode = found.length === 0 ? 0 : 1
}

// A hung run must still end: this timer is unref'd, so it only fires if something else keeps the process alive.
setTimeout(() => {
  process.stderr.write('soak: did not finish in time\n')
  process.exit(1)
}, (parseSeconds(process.argv) + 120) * 1_000).unref()

await main()
