import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { renderChart } from './chart.js'
import { estimateCapacity, ESTIMATE_CORES, summarizeAcks, summarizeCluster, summarizeReference, verdicts } from './comparisons.js'
import { flagValue } from './lib/args.js'
import { profileClientsInto } from './lib/client-process.js'
import { fmt } from './lib/format.js'
import { medianOf, paired, values, type Runs } from './lib/runs.js'
import {
  runConnections, runLatency, runThroughput, SHAPES,
  type ConnectionsResult, type LatencyResult, type ThroughputResult, type Timing,
} from './scenarios.js'
import {
  BY_TOPIC_TARGET, CEILING, CLUSTER_TARGETS, hasRedisServer, IN_MEMORY, referenceTargets, TARGETS, type TargetName, type TargetSpec,
} from './targets.js'

/**
 * `npm run bench [-- --quick] [--runs N] [--only fanout,topics,latency,acks,connections]
 *   [--targets pubsub,ws-corked,ws-plain,socketio,cluster-1,cluster-2,cluster-3,cluster-3-by-topic,reference,reference-cluster-1,reference-cluster-3]
 *   [--reference DIR] [--out NAME] [--connections N] [--profile DIR] [--latency-share 0.5]`
 *
 * Runs every target in the same invocation, alternating target by target
 * within each round, and reports medians. Ratios are taken within this run
 * only: the machine is shared, so absolute figures move from run to run.
 * The cluster targets run where redis-server is installed (cluster-3-by-topic
 * only when named); `--reference DIR` adds the service as built in DIR
 * (another checkout, after `npm run build`), in memory and, when named, as
 * clusters of one and three nodes.
 * Results go to bench/results/NAME.json and .svg (`latest` unless --out).
 */

/**
 * V8 optimizes a function once it has run often enough, so a node that
 * takes a third of the load gets there three times later: measured second
 * by second, three cluster nodes reached their steady CPU per delivery
 * after 5-10 s of load, one node and the in-memory server after 2-3 s.
 * Measuring earlier compares warm-up, not what a running service costs.
 */
const THROUGHPUT_WARMUP_MS = 10_000
/** `--quick`: the same timing for every scenario, short. */
const QUICK_TIMING: Timing = { warmupMs: 500, measureMs: 1_500 }

/** The acks scenario's offered rate: low enough that nothing queues anywhere. */
const ACKS_PUBLISHES_PER_SEC = 1_000

type Settings = {
  runs: number
  /** For fanout and topics, whose CPU per delivery is compared between targets. */
  throughputTiming: Timing
  /** For latency and acks. */
  latencyTiming: Timing
  connections: number
  connectionProcesses: number
  scenarios: Set<string>
  targets: TargetSpec[]
  quick: boolean
  /** Directory for the CPU profiles of the servers and client processes (`--profile DIR`), else none. */
  profileDir: string | undefined
  /** The latency scenario's offered rate as a share of the measured fanout capacity. */
  latencyShare: number
  /** The results' file name, without extension. */
  out: string
}

function parseArgs(argv: string[]): Settings {
  const quick = argv.includes('--quick')
  const valueOf = (flag: string): string | undefined => flagValue(argv, flag)
  const runs = Number(valueOf('--runs') ?? (quick ? 1 : 3))
  const only = valueOf('--only')
  const names = valueOf('--targets')?.split(',')
  const profileDir = valueOf('--profile')
  const reference = valueOf('--reference')
  const redis = hasRedisServer()
  const references = reference ? referenceTargets(reference).filter((t) => t.nodes === undefined || redis) : []
  const known = [...TARGETS, ...(redis ? [...CLUSTER_TARGETS, BY_TOPIC_TARGET] : []), ...references]
  if (!redis) console.log('redis-server is not installed: the cluster targets are left out')
  const targets = known.filter((t) => (names ? names.includes(t.name) : !t.comparisonOnly)).map((t) =>
    profileDir ? { ...t, command: [t.command[0] as string, '--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...t.command.slice(1)] } : t)
  const latencyShare = Number(valueOf('--latency-share') ?? 0.5)
  return {
    targets,
    profileDir,
    latencyShare: latencyShare > 0 && latencyShare <= 1 ? latencyShare : 0.5,
    quick,
    runs: Number.isInteger(runs) && runs > 0 ? runs : 3,
    throughputTiming: quick ? QUICK_TIMING : { warmupMs: THROUGHPUT_WARMUP_MS, measureMs: 3_000 },
    latencyTiming: quick ? QUICK_TIMING : { warmupMs: 1_000, measureMs: 3_000 },
    connections: Number(valueOf('--connections') ?? (quick ? 3_000 : 15_000)),
    connectionProcesses: quick ? 3 : 5,
    scenarios: new Set(only ? only.split(',') : ['fanout', 'topics', 'latency', 'acks', 'connections']),
    out: quick ? 'quick' : valueOf('--out') ?? 'latest',
  }
}


const settings = parseArgs(process.argv.slice(2))
if (settings.profileDir) profileClientsInto(settings.profileDir)
const results = {
  fanout: {} as Runs<ThroughputResult>,
  topics: {} as Runs<ThroughputResult>,
  latency: {} as Runs<LatencyResult>,
  acks: {} as Runs<LatencyResult>,
  connections: {} as Runs<ConnectionsResult>,
}
let failures = 0

/** The whole benchmark stops starting runs after this long, whatever the machine's load. */
const TIME_BUDGET_MS = 20 * 60_000
const deadline = performance.now() + TIME_BUDGET_MS

/** Round r starts at a different target, so no target always runs first (or last) in a round. */
const rotate = <T>(items: readonly T[], r: number): T[] => items.map((_, i) => items[(i + r) % items.length] as T)

async function record<T>(runs: Runs<T>, spec: TargetSpec, what: string, run: () => Promise<T>, describe: (value: T) => string): Promise<void> {
  const list = (runs[spec.name] ??= [])
  if (performance.now() > deadline) {
    failures++
    list.push({ ok: false, error: 'skipped: the time budget was spent' })
    console.log(`  ${what.padEnd(12)} ${spec.label.padEnd(22)} skipped: the ${TIME_BUDGET_MS / 60_000}-minute budget was spent`)
    return
  }
  try {
    const value = await run()
    list.push({ ok: true, value })
    console.log(`  ${what.padEnd(12)} ${spec.label.padEnd(22)} ${describe(value)}`)
  } catch (error) {
    failures++
    const message = error instanceof Error ? error.message : String(error)
    list.push({ ok: false, error: message })
    console.log(`  ${what.padEnd(12)} ${spec.label.padEnd(22)} FAILED: ${message}`)
  }
}

const describeLatency = (v: LatencyResult): string =>
  `p50 ${fmt(v.p50, 2)} ms, p90 ${fmt(v.p90, 2)}, p99 ${fmt(v.p99, 2)}, max ${fmt(v.max, 2)}; ack p50 ${fmt(v.ackP50, 2)} ms (${fmt(v.achievedPerSec)}/s${v.behind ? ', FELL BEHIND' : ''})`

const describeThroughput = (r: ThroughputResult): string =>
  `${fmt(r.deliveriesPerSec)} deliveries/s, ${fmt(r.cpuMicrosPerDelivery, 3)} µs CPU/delivery${r.redisCpuMicrosPerDelivery > 0 ? ` (Redis ${fmt(r.redisCpuMicrosPerDelivery, 3)})` : ''}, server ${fmt(r.serverCores, 2)} cores, ${fmt(r.writesPerDelivery, 3)} writes/delivery, subscribers ${fmt(r.clientCpuMicrosPerDelivery, 3)} µs/delivery, publisher ${fmt(r.publisherCpuMicrosPerDelivery, 3)} µs/delivery`

async function main(): Promise<void> {
  const loadBefore = os.loadavg()
  const started = new Date()
  console.log(`pubsub benchmark: ${os.cpus().length} cores, Node ${process.version}, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`)
  const { throughputTiming: throughput, latencyTiming: latency } = settings
  console.log(`${settings.runs} round(s); per run ${throughput.warmupMs} ms warm-up + ${throughput.measureMs} ms measured in fanout and topics, ${latency.warmupMs} + ${latency.measureMs} ms in latency and acks\n`)

  for (let r = 0; r < settings.runs; r++) {
    console.log(`round ${r + 1}/${settings.runs}`)
    for (const scenario of ['fanout', 'topics'] as const) {
      if (!settings.scenarios.has(scenario)) continue
      for (const spec of rotate(settings.targets, r)) {
        await record(results[scenario], spec, scenario, () => runThroughput(spec, SHAPES[scenario], settings.throughputTiming), describeThroughput)
      }
    }
  }

  if (settings.scenarios.has('latency')) {
    const capacity = medianOf(results.fanout, 'pubsub', (r) => r.deliveriesPerSec)
    const offered = Number.isFinite(capacity) ? capacity * settings.latencyShare : 500_000
    console.log(`\nlatency at ${fmt(offered)} deliveries/s (${settings.latencyShare} of this service's fanout capacity)`)
    // Only targets that can sustain the rate: at half of this service's capacity the
    // plain ws server and socket.io top out far below it, at low shares they may not.
    const sustains = (t: TargetSpec): boolean => medianOf(results.fanout, t.name, (r) => r.deliveriesPerSec) >= 1.5 * offered
    const able = settings.targets.filter((t) => t.name === 'pubsub' || t.name === CEILING || sustains(t))
    for (let r = 0; r < settings.runs; r++) {
      for (const spec of rotate(able, r)) {
        await record(results.latency, spec, 'latency', () => runLatency(spec, SHAPES.fanout, offered, settings.latencyTiming), describeLatency)
      }
    }
  }

  // Only the service's own targets: the baselines acknowledge a publish without doing anything first.
  const acked = settings.targets.filter((t) => t.name === IN_MEMORY || t.name === 'reference' || t.nodes !== undefined)
  if (settings.scenarios.has('acks') && acked.length > 0) {
    const shape = SHAPES.acks
    console.log(`\npublish → ack at low load: ${fmt(ACKS_PUBLISHES_PER_SEC)} publishes/s, 1 topic × ${shape.subscribersPerTopic} subscribers`)
    for (let r = 0; r < settings.runs; r++) {
      for (const spec of rotate(acked, r)) {
        await record(results.acks, spec, 'acks', () => runLatency(spec, shape, ACKS_PUBLISHES_PER_SEC * shape.subscribersPerTopic, settings.latencyTiming), describeLatency)
      }
    }
  }

  if (settings.scenarios.has('connections')) {
    console.log(`\n${fmt(settings.connections)} idle subscribers over ${settings.connectionProcesses} client processes`)
    // One process per target: a cluster's memory is the sum of its nodes', which this scenario does not read.
    const single = settings.targets.filter((t) => t.nodes === undefined)
    for (let r = 0; r < settings.runs; r++) {
      for (const spec of rotate(single, r)) {
        await record(results.connections, spec, 'connections', () => runConnections(spec, settings.connections, settings.connectionProcesses),
          (v) => `${fmt(v.rssPerConnection / 1024, 2)} KiB/connection, connected in ${fmt(v.connectMs)} ms, one event reached all in ${fmt(v.reachAllMs, 1)} ms (CPU: server ${fmt(v.reachAllServerCpuMs)} ms, clients ${fmt(v.reachAllClientCpuMs)} ms), idle ${fmt(v.idleRssBytes / 2 ** 20, 1)} MiB, start-up ${fmt(v.startupMs)} ms`)
      }
    }
  }

  const summary = summarize()
  const machine = {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    date: started.toISOString(),
    loadBefore,
    loadAfter: os.loadavg(),
  }
  printSummary(summary)
  console.log(`\nload average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${machine.loadAfter.map((l) => l.toFixed(2)).join(' ')}`)

  const dir = new URL('../../results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  const base = settings.out
  writeFileSync(new URL(`${base}.json`, dir), JSON.stringify({ machine, settings: { ...settings, scenarios: [...settings.scenarios] }, summary, runs: results }, null, 2) + '\n')
  writeFileSync(new URL(`${base}.svg`, dir), renderChart(summary, machine))
  console.log(`wrote bench/results/${base}.json and bench/results/${base}.svg`)
  if (failures > 0) {
    console.log(`${failures} run(s) failed`)
    process.exitCode = 1
  }
}

export type ThroughputSummary = {
  target: TargetName
  label: string
  deliveriesPerSec: number
  cpuMicrosPerDelivery: number
  writesPerDelivery: number
  /** Ratios of the medians. */
  vsCeiling: number
  cpuVsCeiling: number
  /** Medians of the ratios within each round, whose runs were next to each other in time. */
  pairedVsCeiling: number
  pairedCpuVsCeiling: number
  runs: number
}

export type Summary = ReturnType<typeof summarize>

function summarizeThroughput(runs: Runs<ThroughputResult>): ThroughputSummary[] {
  const ceilingRate = medianOf(runs, CEILING, (r) => r.deliveriesPerSec)
  const ceilingCpu = medianOf(runs, CEILING, (r) => r.cpuMicrosPerDelivery)
  return settings.targets.filter((t) => runs[t.name]).map((t) => {
    const deliveriesPerSec = medianOf(runs, t.name, (r) => r.deliveriesPerSec)
    const cpuMicrosPerDelivery = medianOf(runs, t.name, (r) => r.cpuMicrosPerDelivery)
    return {
      target: t.name, label: t.label, deliveriesPerSec, cpuMicrosPerDelivery,
      writesPerDelivery: medianOf(runs, t.name, (r) => r.writesPerDelivery),
      vsCeiling: deliveriesPerSec / ceilingRate, cpuVsCeiling: cpuMicrosPerDelivery / ceilingCpu,
      pairedVsCeiling: paired(runs, t.name, CEILING, (r) => r.deliveriesPerSec),
      pairedCpuVsCeiling: paired(runs, t.name, CEILING, (r) => r.cpuMicrosPerDelivery),
      runs: values(runs, t.name).length,
    }
  })
}

function summarize() {
  const cluster = summarizeCluster(results, settings.targets)
  const pick = <T, K extends keyof T>(runs: Runs<T>, keys: K[]) =>
    settings.targets.filter((t) => runs[t.name]).map((t) => {
      const row: Record<string, number | string> = { target: t.name, label: t.label, runs: values(runs, t.name).length }
      for (const key of keys) row[key as string] = medianOf(runs, t.name, (v) => Number(v[key]))
      return row
    })
  return {
    fanout: summarizeThroughput(results.fanout),
    topics: summarizeThroughput(results.topics),
    latency: pick(results.latency, ['offeredPerSec', 'achievedPerSec', 'p50', 'p90', 'p99', 'max', 'ackP50']),
    connections: pick(results.connections, ['connections', 'rssPerConnection', 'connectMs', 'reachAllMs', 'reachAllServerCpuMs', 'reachAllClientCpuMs', 'idleRssBytes', 'startupMs']),
    cluster,
    acks: summarizeAcks(results.acks, settings.targets),
    reference: summarizeReference(results),
    capacity: [estimateCapacity(cluster.fanout, 'fanout'), estimateCapacity(cluster.topics, 'topics')].flatMap((c) => (c ? [c] : [])),
  }
}

function printTable(title: string, header: string[], rows: string[][]): void {
  if (rows.length === 0) return
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')
  console.log(`\n${title}`)
  console.log(line(header))
  for (const row of rows) console.log(line(row))
}

function printSummary(summary: Summary): void {
  const throughputRows = (rows: ThroughputSummary[]): string[][] => rows.map((r) => [
    r.label, fmt(r.deliveriesPerSec), `${fmt(r.vsCeiling, 2)}×`, `${fmt(r.pairedVsCeiling, 2)}×`,
    fmt(r.cpuMicrosPerDelivery, 3), `${fmt(r.cpuVsCeiling, 2)}×`, `${fmt(r.pairedCpuVsCeiling, 2)}×`, fmt(r.writesPerDelivery, 3), String(r.runs),
  ])
  const header = ['target', 'deliveries/s', 'vs ceiling', 'paired', 'CPU µs/delivery', 'vs ceiling', 'paired', 'writes/delivery', 'runs']
  // "vs ceiling" divides the medians; "paired" is the median of the ratios within each round.
  printTable('fanout: 1 topic × 1,000 subscribers, 1 publisher (medians)', header, throughputRows(summary.fanout))
  printTable('topics: 100 topics × 10 subscribers, 10 publishers (medians)', header, throughputRows(summary.topics))
  printTable('latency: publish → deliver, ms (medians)', ['target', 'offered/s', 'achieved/s', 'p50', 'p90', 'p99', 'max', 'runs'],
    summary.latency.map((r) => [String(r.label), fmt(Number(r.offeredPerSec)), fmt(Number(r.achievedPerSec)), fmt(Number(r.p50), 2), fmt(Number(r.p90), 2), fmt(Number(r.p99), 2), fmt(Number(r.max), 2), String(r.runs)]))
  printTable('connections: idle subscribers (medians)', ['target', 'connections', 'KiB RSS/conn', 'connect ms', 'reach-all ms', 'its server CPU ms', 'its client CPU ms', 'idle RSS MiB', 'start-up ms', 'runs'],
    summary.connections.map((r) => [String(r.label), fmt(Number(r.connections)), fmt(Number(r.rssPerConnection) / 1024, 2), fmt(Number(r.connectMs)), fmt(Number(r.reachAllMs), 1), fmt(Number(r.reachAllServerCpuMs)), fmt(Number(r.reachAllClientCpuMs)), fmt(Number(r.idleRssBytes) / 2 ** 20, 1), fmt(Number(r.startupMs)), String(r.runs)]))
  printClusterSummary(summary)
}

function printClusterSummary(summary: Summary): void {
  const clusterHeader = ['target', 'deliveries/s', 'CPU µs/delivery', 'of which Redis', 'vs in-memory', 'vs 1 node', 'runs']
  for (const scenario of ['fanout', 'topics'] as const) {
    printTable(`${scenario}, cluster: CPU of every node and redis-server (medians; ratios are medians of per-round ratios)`, clusterHeader,
      summary.cluster[scenario].map((r) => [r.label, fmt(r.deliveriesPerSec), fmt(r.cpuMicrosPerDelivery, 3), fmt(r.redisCpuMicrosPerDelivery, 3), `${fmt(r.cpuVsInMemory, 2)}×`, `${fmt(r.cpuVsOneNode, 2)}×`, String(r.runs)]))
  }
  printTable(`acks: publish → ack at low load, ms (medians)`, ['target', 'ack p50', 'ack p90', 'ack p99', 'deliver p50', 'ack p50 over in-memory', 'runs'],
    summary.acks.map((r) => [r.label, fmt(r.ackP50, 2), fmt(r.ackP90, 2), fmt(r.ackP99, 2), fmt(r.deliverP50, 2), fmt(r.ackP50OverInMemory, 2), String(r.runs)]))
  printTable('this service over the reference build (1.00× = unchanged; medians of per-round ratios)', ['measure', 'this service', 'reference', 'ratio'],
    summary.reference.map((r) => [r.what, fmt(r.service, 2), fmt(r.reference, 2), `${fmt(r.ratio, 3)}×`]))
  printTable(`what a ${ESTIMATE_CORES}-core host would carry, from the per-delivery costs with the most nodes (Redis on one core, nodes on the rest)`,
    ['scenario', 'node µs/delivery', 'Redis µs/delivery', 'deliveries/s', 'bound by'],
    summary.capacity.map((c) => [c.scenario, fmt(c.nodeCpuMicros, 3), fmt(c.redisCpuMicros, 3), fmt(c.deliveriesPerSec), c.boundBy]))
  const lines = verdicts(summary.cluster, summary.acks)
  if (lines.length > 0) console.log(`\ncluster targets\n${lines.join('\n')}`)
}

await main()
