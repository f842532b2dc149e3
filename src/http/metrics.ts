import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { REFUSAL_REASONS, type RefusalCounts } from '../auth/authenticator.js'
import type { BrokerStats } from '../broker/broker.js'
import type { Handler } from './respond.js'
import type { Router } from './router.js'

/** What the WebSocket side counts; server.ts passes it in so http/ never imports ws/. */
export type GatewayCounts = {
  connections: number
  connectionsAccepted: number
  connectionsRefused: number
  slowConsumers: number
  heartbeatTerminations: number
  badRequests: number
  internalErrors: number
}

/** Event-loop delay since the previous scrape (quantiles) and since the first scrape (sum, count), in seconds. */
export type LoopLag = { quantiles: [number, number][]; sumSeconds: number; count: number }

/** One scrape's inputs; rendering is a pure function of it. */
export type MetricsSample = {
  broker: BrokerStats
  /** Cluster mode only: this node's id and whether it reaches Redis. */
  node?: { id: string; redisAvailable: boolean }
  gateway: GatewayCounts
  refusals: RefusalCounts
  uptimeSeconds: number
  residentMemoryBytes: number
  cpuSeconds: number
  loopLag: LoopLag
}

export type MetricsSources = {
  brokerStats(): BrokerStats
  node(): { id: string; redisAvailable: boolean } | undefined
  gatewayCounts(): GatewayCounts
  refusals(): RefusalCounts
  uptimeSec(): number
}

type Family = { name: string; type: 'counter' | 'gauge' | 'summary'; help: string; samples: string[] }

const simple = (name: string, type: 'counter' | 'gauge', help: string, value: number): Family =>
  ({ name, type, help, samples: [`${name} ${formatValue(value)}`] })

/** Prometheus text values: integers as they are, NaN and infinities spelled its way. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

function nodeFamilies(node: MetricsSample['node']): Family[] {
  if (node === undefined) return []
  return [
    { name: 'pubsub_node_info', type: 'gauge', help: 'This cluster node; its id is the node_id label.', samples: [`pubsub_node_info{node_id=${JSON.stringify(node.id)}} 1`] },
    simple('pubsub_redis_available', 'gauge', '1 while this node reaches Redis, else 0.', node.redisAvailable ? 1 : 0),
  ]
}

function families(s: MetricsSample): Family[] {
  const { broker, gateway } = s
  const lag = 'nodejs_eventloop_lag_seconds'
  return [
    ...nodeFamilies(s.node),
    simple('pubsub_connections', 'gauge', 'WebSocket connections currently open.', gateway.connections),
    simple('pubsub_connections_accepted_total', 'counter', 'WebSocket connections accepted since start.', gateway.connectionsAccepted),
    simple('pubsub_connections_refused_total', 'counter', 'WebSocket upgrades refused with an HTTP error (missing key, wrong path, shutting down).', gateway.connectionsRefused),
    simple('pubsub_topics', 'gauge', 'Topics that currently exist.', broker.topics.length),
    simple('pubsub_subscriptions', 'gauge', 'Subscriptions across all topics.', broker.subscriptions),
    simple('pubsub_messages_published_total', 'counter', 'Messages published, over WebSocket and REST.', broker.messagesPublished),
    simple('pubsub_messages_delivered_total', 'counter', 'Events handed to subscribers (one per subscriber per message).', broker.messagesDelivered),
    simple('pubsub_slow_consumer_disconnects_total', 'counter', 'Subscribers disconnected for exceeding MAX_BUFFERED_BYTES.', gateway.slowConsumers),
    simple('pubsub_bad_requests_total', 'counter', 'WebSocket frames answered with BAD_REQUEST.', gateway.badRequests),
    simple('pubsub_heartbeat_terminations_total', 'counter', 'WebSocket connections terminated for missing a heartbeat pong.', gateway.heartbeatTerminations),
    simple('pubsub_internal_errors_total', 'counter', 'WebSocket messages that failed inside the server (answered INTERNAL).', gateway.internalErrors),
    {
      name: 'pubsub_auth_refusals_total',
      type: 'counter',
      help: 'Requests, upgrades and WebSocket messages refused by access control, by reason.',
      samples: REFUSAL_REASONS.map((reason) => `pubsub_auth_refusals_total{reason="${reason}"} ${s.refusals[reason]}`),
    },
    simple('pubsub_uptime_seconds', 'gauge', 'Seconds since the server started.', s.uptimeSeconds),
    simple('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', s.residentMemoryBytes),
    simple('process_cpu_seconds_total', 'counter', 'User and system CPU time spent in seconds.', s.cpuSeconds),
    {
      name: lag,
      type: 'summary',
      help: 'Event-loop delay in seconds: quantiles since the previous scrape, sum and count since the first.',
      samples: [
        ...s.loopLag.quantiles.map(([q, v]) => `${lag}{quantile="${q}"} ${formatValue(v)}`),
        `${lag}_sum ${formatValue(s.loopLag.sumSeconds)}`,
        `${lag}_count ${formatValue(s.loopLag.count)}`,
      ],
    },
  ]
}

/** Renders the sample as Prometheus text exposition format 0.0.4, HELP and TYPE per family. */
export function renderMetrics(sample: MetricsSample): string {
  const lines: string[] = []
  for (const family of families(sample)) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`, ...family.samples)
  }
  return lines.join('\n') + '\n'
}

const QUANTILES = [0.5, 0.9, 0.99] as const
const NS_PER_SECOND = 1e9
const RESOLUTION_MS = 10
/** The histogram records the whole time between its timer's firings; the lag is what exceeds the period. */
const PERIOD_SECONDS = RESOLUTION_MS / 1000

const lagOf = (nanoseconds: number): number => Math.max(0, nanoseconds / NS_PER_SECOND - PERIOD_SECONDS)

/**
 * Samples event-loop delay between scrapes. Quantiles cover the time since the
 * previous scrape (so a stall shows up and then clears); sum and count keep
 * growing, as a summary's must.
 */
class LoopLagMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  private sumSeconds = 0
  private count = 0

  constructor() {
    this.histogram.enable()
  }

  take(): LoopLag {
    const h = this.histogram
    const quantiles = QUANTILES.map((q): [number, number] => [q, h.count > 0 ? lagOf(h.percentile(q * 100)) : Number.NaN])
    if (h.count > 0) {
      this.sumSeconds += lagOf(h.mean) * h.count
      this.count += h.count
    }
    h.reset()
    return { quantiles, sumSeconds: this.sumSeconds, count: this.count }
  }

  stop(): void {
    this.histogram.disable()
  }
}

/** Adds GET /metrics; `stop()` ends the event-loop sampling when the server closes. */
export function addMetricsRoute(router: Router<Handler>, sources: MetricsSources): { stop(): void } {
  // Sampling starts with the first scrape: a server nobody scrapes runs no extra timer.
  let loopLag: LoopLagMonitor | undefined
  router.add('GET', '/metrics', () => {
    loopLag ??= new LoopLagMonitor()
    const cpu = process.cpuUsage()
    const text = renderMetrics({
      broker: sources.brokerStats(),
      node: sources.node(),
      gateway: sources.gatewayCounts(),
      refusals: sources.refusals(),
      uptimeSeconds: sources.uptimeSec(),
      residentMemoryBytes: process.memoryUsage.rss(),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      loopLag: loopLag.take(),
    })
    return { status: 200, raw: { contentType: 'text/plain; version=0.0.4; charset=utf-8', bytes: text } }
  })
  return { stop: () => loopLag?.stop() }
}
