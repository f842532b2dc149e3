import { ClientProcess } from './lib/client-process.js'
import { startDeployment, type Deployment } from './lib/deployment.js'
import { DIALECTS, nowMicros, payloadJson } from './lib/dialect.js'
import type { PublishPlan, PublisherCommand, PublisherReport, SubscriberCommand, SubscriberReport, Target } from './lib/messages.js'
import { cpuSeconds, createTopics, rssBytes, sleep, writeSyscalls } from './lib/proc.js'
import { openRawClient } from './lib/raw-client.js'
import { Histogram } from './lib/stats.js'
import type { TargetSpec } from './targets.js'

type Subscribers = ClientProcess<SubscriberCommand, SubscriberReport>
type Publisher = ClientProcess<PublisherCommand, PublisherReport>

const script = (name: string): string => new URL(`./clients/${name}.js`, import.meta.url).pathname

export const PAYLOAD_BYTES = 128
const CONNECT_CONCURRENCY = 100
/**
 * Progress reports drive the publisher's window, so they come often under
 * load, but each costs a system call in three processes: at 10 ms a
 * topic's window (48–64 events) still spans several reports at the rates
 * measured here (under 1,000 events per second per topic).
 */
const REPORT_EVERY_MS = 10
/** Idle connections report rarely: with thousands of them, each report walks them all. */
const IDLE_REPORT_EVERY_MS = 500
const SETUP_TIMEOUT_MS = 120_000
const DRAIN_TIMEOUT_MS = 30_000

export type LoadShape = { topics: number; subscribersPerTopic: number; publishers: number; subscriberProcesses: number; window: number }

export const SHAPES = {
  fanout: { topics: 1, subscribersPerTopic: 1_000, publishers: 1, subscriberProcesses: 2, window: 48 },
  topics: { topics: 100, subscribersPerTopic: 10, publishers: 10, subscriberProcesses: 2, window: 64 },
  /** Low load, for publish → ack latency: a few subscribers on every node, a publish every millisecond or so. */
  acks: { topics: 1, subscribersPerTopic: 30, publishers: 1, subscriberProcesses: 1, window: 0 },
} satisfies Record<string, LoadShape>

export type Timing = { warmupMs: number; measureMs: number }

export type ThroughputResult = {
  deliveriesPerSec: number
  /** Server CPU (user + system) per delivery, in microseconds: every node and, in a cluster, redis-server. */
  cpuMicrosPerDelivery: number
  /** The part of it that redis-server used (0 without one). */
  redisCpuMicrosPerDelivery: number
  /** Server CPU use over the measured interval, in cores. */
  serverCores: number
  /** The subscriber processes' CPU per delivery, in microseconds: what the generator costs. */
  clientCpuMicrosPerDelivery: number
  /** The publisher process's CPU per delivery, in microseconds: the rest of the generator. */
  publisherCpuMicrosPerDelivery: number
  /** The server's write system calls per delivery: 1 without coalescing, less the more events share a write. */
  writesPerDelivery: number
  deliveries: number
  startupMs: number
}

export type LatencyResult = {
  offeredPerSec: number; achievedPerSec: number
  /** Publish → deliver, over every subscriber, in ms. */
  p50: number; p90: number; p99: number; max: number; samples: number
  /** Publish → ack at the publisher, in ms. */
  ackP50: number; ackP90: number; ackP99: number
  behind: boolean
}

export type ConnectionsResult = {
  connections: number
  idleRssBytes: number
  rssPerConnection: number
  connectMs: number
  reachAllMs: number
  /** The server's CPU time (user + system) while that one event went out, from /proc in 10 ms ticks. */
  reachAllServerCpuMs: number
  /** The client processes' CPU time over the same interval: with the server's, what two cores had to fit. */
  reachAllClientCpuMs: number
  startupMs: number
}

const topicNames = (count: number): string[] => Array.from({ length: count }, (_, i) => `bench-${i}`)

async function withDeployment<T>(spec: TargetSpec, use: (deployment: Deployment, target: Target) => Promise<T>): Promise<T> {
  const deployment = await startDeployment(spec)
  try {
    return await use(deployment, deployment.target)
  } finally {
    await deployment.stop()
  }
}

/** Spreads `topics` connections (one per entry) over `count` processes and waits until all are subscribed. */
async function openSubscribers(target: Target, topics: string[], count: number, reportEveryMs = REPORT_EVERY_MS): Promise<Subscribers[]> {
  const processes = Array.from({ length: count }, (_, i) => new ClientProcess<SubscriberCommand, SubscriberReport>(script('subscriber'), `subscribers#${i}`))
  const ready = processes.map((p, i) => {
    const mine = topics.filter((_, k) => k % count === i)
    p.send({ cmd: 'open', target, topics: mine, concurrency: CONNECT_CONCURRENCY, reportEveryMs })
    return p.wait('ready', SETUP_TIMEOUT_MS)
  })
  try {
    await Promise.all(ready)
  } catch (error) {
    await Promise.all(processes.map((p) => p.close()))
    throw error
  }
  return processes
}

/** Relays the slowest subscriber of each topic to the publisher; returns a reader of the delivery total. */
function relayProgress(subscribers: Subscribers[], publisher: Publisher | undefined): () => number {
  const totals = subscribers.map(() => 0)
  const mins = subscribers.map((): Record<string, number> => ({}))
  subscribers.forEach((p, i) => {
    p.onReport = (report) => {
      if (report.type !== 'progress') return
      totals[i] = report.total
      mins[i] = report.minByTopic
      if (!publisher) return
      const minByTopic: Record<string, number> = {}
      for (const own of mins) {
        for (const [topic, seen] of Object.entries(own)) {
          const known = minByTopic[topic]
          if (known === undefined || seen < known) minByTopic[topic] = seen
        }
      }
      publisher.send({ cmd: 'progress', minByTopic })
    }
  })
  return () => totals.reduce((a, b) => a + b, 0)
}

/** CPU seconds (user + system) the processes have used so far. */
const cpuOfAll = (pids: number[]): number => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
const pidsOf = (processes: { pid: number }[]): number[] => processes.map((p) => p.pid)

function assertHealthy(processes: { failure: string | undefined }[]): void {
  const failure = processes.find((p) => p.failure)?.failure
  if (failure) throw new Error(failure)
}

type Drive = { shape: LoadShape; plan: PublishPlan; timing: Timing }

/** One measured run: subscribe, publish for warm-up + measure, stop, wait until every event has arrived everywhere. */
async function drive(spec: TargetSpec, { shape, plan, timing }: Drive) {
  return withDeployment(spec, async (deployment, target) => {
    const topics = topicNames(shape.topics)
    await createTopics(target.ports[0] as number, topics)
    const connections = topics.flatMap((topic) => Array.from({ length: shape.subscribersPerTopic }, () => topic))
    const subscribers = await openSubscribers(target, connections, shape.subscriberProcesses)
    const publisher = new ClientProcess<PublisherCommand, PublisherReport>(script('publisher'), 'publisher')
    // The publisher first: a refused publish shows as a gap at the subscribers, and its error says why.
    const everyone = [publisher, ...subscribers]
    try {
      publisher.send({ cmd: 'open', target, topics, publishers: shape.publishers, payloadBytes: PAYLOAD_BYTES, plan })
      await publisher.wait('ready', SETUP_TIMEOUT_MS)
      const delivered = relayProgress(subscribers, publisher)
      publisher.send({ cmd: 'go' })
      await sleep(timing.warmupMs)
      for (const p of everyone) p.send({ cmd: 'measure' })
      const nodePids = pidsOf(deployment.nodes)
      const redisPids = deployment.redis ? [deployment.redis.pid] : []
      const sample = () => ({
        at: performance.now(), total: delivered(), cpu: cpuOfAll(deployment.pids), redisCpu: cpuOfAll(redisPids),
        clientCpu: cpuOfAll(pidsOf(subscribers)), publisherCpu: cpuSeconds(publisher.pid),
        writes: nodePids.reduce((sum, pid) => sum + writeSyscalls(pid), 0),
      })
      const start = sample()
      await sleep(timing.measureMs)
      const end = sample()
      assertHealthy(everyone)
      publisher.send({ cmd: 'stop' })
      const stopped = await publisher.wait('stopped', DRAIN_TIMEOUT_MS)
      const done = await Promise.all(subscribers.map((p) => {
        p.send({ cmd: 'expect', sent: stopped.sent })
        return p.wait('done', DRAIN_TIMEOUT_MS)
      }))
      assertHealthy(everyone)
      const expectedTotal = Object.values(stopped.sent).reduce((a, b) => a + b, 0) * shape.subscribersPerTopic
      const receivedTotal = done.reduce((sum, d) => sum + d.total, 0)
      if (receivedTotal !== expectedTotal) throw new Error(`expected ${expectedTotal} deliveries in all, counted ${receivedTotal}`)
      const latency = new Histogram()
      for (const d of done) latency.merge(Histogram.fromSparse(d.latency))
      const seconds = (end.at - start.at) / 1000
      const deliveries = end.total - start.total
      return {
        seconds, deliveries, cpu: end.cpu - start.cpu, redisCpu: end.redisCpu - start.redisCpu,
        clientCpu: end.clientCpu - start.clientCpu, publisherCpu: end.publisherCpu - start.publisherCpu, writes: end.writes - start.writes,
        latency, ackLatency: Histogram.fromSparse(stopped.ackLatency), behind: stopped.behind, startupMs: deployment.nodes[0]?.startupMs ?? Number.NaN,
      }
    } finally {
      await Promise.all(everyone.map((p) => p.close()))
    }
  })
}

export async function runThroughput(spec: TargetSpec, shape: LoadShape, timing: Timing): Promise<ThroughputResult> {
  const run = await drive(spec, { shape, plan: { mode: 'window', window: shape.window }, timing })
  return {
    deliveriesPerSec: run.deliveries / run.seconds,
    cpuMicrosPerDelivery: (run.cpu / run.deliveries) * 1e6,
    redisCpuMicrosPerDelivery: (run.redisCpu / run.deliveries) * 1e6,
    serverCores: run.cpu / run.seconds,
    clientCpuMicrosPerDelivery: (run.clientCpu / run.deliveries) * 1e6,
    publisherCpuMicrosPerDelivery: (run.publisherCpu / run.deliveries) * 1e6,
    writesPerDelivery: run.writes / run.deliveries,
    deliveries: run.deliveries,
    startupMs: run.startupMs,
  }
}

/** A load shape at a fixed offered rate, in deliveries per second. */
export async function runLatency(spec: TargetSpec, shape: LoadShape, deliveriesPerSec: number, timing: Timing): Promise<LatencyResult> {
  const perSecond = deliveriesPerSec / (shape.topics * shape.subscribersPerTopic)
  const plan: PublishPlan = { mode: 'rate', perSecond, maxInFlight: 10_000 }
  const run = await drive(spec, { shape, plan, timing })
  const h = run.latency
  return {
    offeredPerSec: deliveriesPerSec,
    achievedPerSec: run.deliveries / run.seconds,
    p50: h.quantileMs(0.5),
    p90: h.quantileMs(0.9),
    p99: h.quantileMs(0.99),
    max: h.max / 1000,
    samples: h.total,
    ackP50: run.ackLatency.quantileMs(0.5),
    ackP90: run.ackLatency.quantileMs(0.9),
    ackP99: run.ackLatency.quantileMs(0.99),
    behind: run.behind,
  }
}

const SETTLE_MS = 1_000

/** Many idle subscribers on one topic: memory per connection, time to connect, time for one event to reach all. */
export async function runConnections(spec: TargetSpec, count: number, processes: number): Promise<ConnectionsResult> {
  return withDeployment(spec, async ({ nodes }, target) => {
    const [server] = nodes
    if (!server) throw new Error('the deployment has no server')
    const [topic] = topicNames(1) as [string]
    await createTopics(server.port, [topic])
    await sleep(SETTLE_MS)
    const idleRssBytes = rssBytes(server.pid)
    const began = performance.now()
    const subscribers = await openSubscribers(target, Array.from({ length: count }, () => topic), processes, IDLE_REPORT_EVERY_MS)
    try {
      const connectMs = performance.now() - began
      await sleep(SETTLE_MS)
      const rssPerConnection = (rssBytes(server.pid) - idleRssBytes) / count
      for (const p of subscribers) p.send({ cmd: 'measure' })
      const cpuBefore = { server: cpuSeconds(server.pid), clients: cpuOfAll(pidsOf(subscribers)) }
      const reachAllMs = await publishOnce(target, topic, subscribers)
      const reachAllServerCpuMs = (cpuSeconds(server.pid) - cpuBefore.server) * 1000
      const reachAllClientCpuMs = (cpuOfAll(pidsOf(subscribers)) - cpuBefore.clients) * 1000
      assertHealthy(subscribers)
      return {
        connections: count, idleRssBytes, rssPerConnection, connectMs, reachAllMs, reachAllServerCpuMs, reachAllClientCpuMs, startupMs: server.startupMs,
      }
    } finally {
      await Promise.all(subscribers.map((p) => p.close()))
    }
  })
}

/** Publishes one event from this process; resolves with the time until the last subscriber had it, in ms. */
async function publishOnce(target: Target, topic: string, subscribers: Subscribers[]): Promise<number> {
  const dialect = DIALECTS[target.dialect]
  let ready: () => void = () => {}
  const isReady = new Promise<void>((resolve) => { ready = resolve })
  const client = await openRawClient(target.host, target.ports[0] as number, dialect.path, (frame) => {
    if (dialect.isReady(frame)) ready()
  }, () => {})
  for (const frame of dialect.hello) client.sendText(frame)
  if (dialect.hello.length === 0) ready()
  await isReady
  const done = subscribers.map((p) => {
    p.send({ cmd: 'expect', sent: { [topic]: 1 } })
    return p.wait('done', DRAIN_TIMEOUT_MS)
  })
  const sentAt = nowMicros()
  client.sendText(dialect.publish(topic, 1, payloadJson(1, sentAt, PAYLOAD_BYTES)))
  const reports = await Promise.all(done)
  client.close()
  return Math.max(...reports.map((r) => r.latency.max)) / 1000
}
