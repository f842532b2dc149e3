import { fmt } from './lib/format.js'
import { medianOf, paired, values, type Runs } from './lib/runs.js'
import type { ConnectionsResult, LatencyResult, ThroughputResult } from './scenarios.js'
import { IN_MEMORY, type TargetName, type TargetSpec } from './targets.js'

/**
 * The in-memory service against its cluster mode and against a reference
 * build, as ratios within one run, and the cluster targets of issue 16:
 * CPU per delivery (nodes + Redis) at most 1.3× the in-memory server's in
 * fanout and 2× in topics, flat (±15 %) from one to three nodes, and
 * publish → ack p50 at low load within 1 ms of the in-memory server's.
 */

export const LIMITS = { fanoutCpu: 1.3, topicsCpu: 2, flatness: 0.15, ackP50Ms: 1 }

/** Cores of the host the capacity estimate is written for. */
export const ESTIMATE_CORES = 16

export type ClusterRow = {
  target: TargetName
  label: string
  nodes: number
  /** Not one of the issue's targets (see TargetSpec), so neither judged nor used for the estimate. */
  comparisonOnly: boolean
  deliveriesPerSec: number
  /** Nodes and redis-server together, and redis-server alone. */
  cpuMicrosPerDelivery: number
  redisCpuMicrosPerDelivery: number
  /** Medians of the per-round ratios to the in-memory server, and to the one-node cluster. */
  cpuVsInMemory: number
  cpuVsOneNode: number
  runs: number
}

export type AckRow = {
  target: TargetName
  label: string
  ackP50: number
  ackP90: number
  ackP99: number
  deliverP50: number
  /** Median of the per-round differences from the in-memory server's ack p50, in ms. */
  ackP50OverInMemory: number
  runs: number
}

export type ReferenceRow = { what: string; service: number; reference: number; ratio: number }

const cpu = (r: ThroughputResult): number => r.cpuMicrosPerDelivery

function clusterRows(runs: Runs<ThroughputResult>, targets: readonly TargetSpec[]): ClusterRow[] {
  return targets.filter((t) => t.nodes !== undefined && runs[t.name]).map((t) => ({
    target: t.name,
    label: t.label,
    nodes: t.nodes ?? 1,
    comparisonOnly: t.comparisonOnly === true,
    deliveriesPerSec: medianOf(runs, t.name, (r) => r.deliveriesPerSec),
    cpuMicrosPerDelivery: medianOf(runs, t.name, cpu),
    redisCpuMicrosPerDelivery: medianOf(runs, t.name, (r) => r.redisCpuMicrosPerDelivery),
    cpuVsInMemory: paired(runs, t.name, IN_MEMORY, cpu),
    cpuVsOneNode: paired(runs, t.name, t.oneNode ?? 'cluster-1', cpu),
    runs: values(runs, t.name).length,
  }))
}

export function summarizeCluster(results: { fanout: Runs<ThroughputResult>; topics: Runs<ThroughputResult> }, targets: readonly TargetSpec[]) {
  return { fanout: clusterRows(results.fanout, targets), topics: clusterRows(results.topics, targets) }
}

export function summarizeAcks(runs: Runs<LatencyResult>, targets: readonly TargetSpec[]): AckRow[] {
  return targets.filter((t) => runs[t.name]).map((t) => ({
    target: t.name,
    label: t.label,
    ackP50: medianOf(runs, t.name, (r) => r.ackP50),
    ackP90: medianOf(runs, t.name, (r) => r.ackP90),
    ackP99: medianOf(runs, t.name, (r) => r.ackP99),
    deliverP50: medianOf(runs, t.name, (r) => r.p50),
    ackP50OverInMemory: paired(runs, t.name, IN_MEMORY, (r) => r.ackP50, (a, b) => a - b),
    runs: values(runs, t.name).length,
  }))
}

/** The in-memory service over the reference build: 1.00 means unchanged. */
export function summarizeReference(results: { fanout: Runs<ThroughputResult>; topics: Runs<ThroughputResult>; connections: Runs<ConnectionsResult> }): ReferenceRow[] {
  const row = <T>(what: string, runs: Runs<T>, pick: (value: T) => number): ReferenceRow[] =>
    runs.reference && runs[IN_MEMORY] ? [{
      what,
      service: medianOf(runs, IN_MEMORY, pick),
      reference: medianOf(runs, 'reference', pick),
      ratio: paired(runs, IN_MEMORY, 'reference', pick),
    }] : []
  return [
    ...row('fanout deliveries/s', results.fanout, (r) => r.deliveriesPerSec),
    ...row('fanout CPU µs/delivery', results.fanout, cpu),
    ...row('topics deliveries/s', results.topics, (r) => r.deliveriesPerSec),
    ...row('topics CPU µs/delivery', results.topics, cpu),
    ...row('idle RSS MiB', results.connections, (r) => r.idleRssBytes / 2 ** 20),
    ...row('start-up ms', results.connections, (r) => r.startupMs),
    ...row('KiB RSS/connection', results.connections, (r) => r.rssPerConnection / 1024),
  ]
}

export type Capacity = { scenario: string; nodeCpuMicros: number; redisCpuMicros: number; deliveriesPerSec: number; boundBy: 'nodes' | 'redis' }

/**
 * What a host of ESTIMATE_CORES cores would carry, from the per-delivery
 * costs measured with the most nodes: Redis runs its commands on one core,
 * the nodes share the others. Nothing else (load balancer, clients) counted.
 */
export function estimateCapacity(rows: ClusterRow[], scenario: string): Capacity | undefined {
  const widest = rows.filter((r) => !r.comparisonOnly).reduce<ClusterRow | undefined>((best, r) => (!best || r.nodes > best.nodes ? r : best), undefined)
  if (!widest || !Number.isFinite(widest.cpuMicrosPerDelivery)) return undefined
  const redisCpuMicros = widest.redisCpuMicrosPerDelivery
  const nodeCpuMicros = widest.cpuMicrosPerDelivery - redisCpuMicros
  const byNodes = ((ESTIMATE_CORES - 1) * 1e6) / nodeCpuMicros
  const byRedis = 1e6 / redisCpuMicros
  return { scenario, nodeCpuMicros, redisCpuMicros, deliveriesPerSec: Math.min(byNodes, byRedis), boundBy: byNodes <= byRedis ? 'nodes' : 'redis' }
}

/** A target is judged only when every figure it rests on was measured. */
const mark = (figures: number[], ok: (figure: number) => boolean): string =>
  figures.some((f) => !Number.isFinite(f)) ? 'not measured' : figures.every(ok) ? 'met' : 'NOT MET'

/** One line per target of the issue, each with the figures it rests on. */
export function verdicts(cluster: ReturnType<typeof summarizeCluster>, acks: AckRow[]): string[] {
  const lines: string[] = []
  for (const [scenario, limit] of [['fanout', LIMITS.fanoutCpu], ['topics', LIMITS.topicsCpu]] as const) {
    const rows = cluster[scenario].filter((r) => !r.comparisonOnly)
    if (rows.length === 0) continue
    const vsInMemory = rows.map((r) => r.cpuVsInMemory)
    lines.push(`${scenario}: CPU/delivery (nodes + Redis) ≤ ${limit}× the in-memory server's: ${rows.map((r) => `${r.label} ${fmt(r.cpuVsInMemory, 2)}×`).join(', ')} — ${mark(vsInMemory, (x) => x <= limit)}`)
    const spread = rows.filter((r) => r.nodes > 1)
    if (spread.length > 0) {
      const vsOne = spread.map((r) => r.cpuVsOneNode)
      lines.push(`${scenario}: flat from one node (±${LIMITS.flatness * 100} %): ${spread.map((r) => `${r.label} ${fmt(r.cpuVsOneNode, 2)}×`).join(', ')} — ${mark(vsOne, (x) => Math.abs(x - 1) <= LIMITS.flatness)}`)
    }
  }
  const clusterAcks = acks.filter((r) => r.target.startsWith('cluster-'))
  if (clusterAcks.length > 0) {
    const over = clusterAcks.map((r) => r.ackP50OverInMemory)
    lines.push(`publish → ack p50 at low load within ${LIMITS.ackP50Ms} ms of the in-memory server's: ${clusterAcks.map((r) => `${r.label} ${fmt(r.ackP50OverInMemory, 2)} ms`).join(', ')} — ${mark(over, (x) => x <= LIMITS.ackP50Ms)}`)
  }
  return lines
}
