import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { CheckedSubscriber, open, Publisher, type Tally } from './soak-clients.js'
import { DeliveryChecker } from './soak-checker.js'
import type { Memory, SoakReply, SoakRequest } from './soak-server.js'

/**
 * The soak: `npm run soak -- --seconds N` (default 60). Publishers and
 * subscribers over many topics with churn, slow consumers and clients that
 * never answer pings, against the server in a child process. It fails (exit 1)
 * on any lost, duplicated or reordered event, any INTERNAL error, or resident
 * memory after the run more than 10% above its level after warm-up.
 */

const LOAD = {
  stableTopics: 16,
  stableSubscribers: 12,
  topicsPerStableSubscriber: 4,
  publishers: 4,
  publishesPerSecond: 2_000,
  publishWindow: 64,
  /** A new short-lived subscriber this often, while fewer than maxChurnSubscribers are alive. */
  churnSubscriberEveryMs: 100,
  maxChurnSubscribers: 40,
  /** A topic is created this often; the oldest is deleted once more than liveChurnTopics exist. */
  churnTopicEveryMs: 500,
  liveChurnTopics: 4,
  /** Big events for the slow consumers to fall behind on. */
  firehosePayloadBytes: 32_768,
  firehosePerSecond: 60,
  /** A slow consumer and a client that never answers pings start this often, all through the run. */
  misbehaverEveryMs: 2_000,
  /** How long a slow consumer stops reading; it is dropped well before. */
  slowConsumerPauseMs: 4_000,
}

const SERVER_ENV = {
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  HEARTBEAT_INTERVAL_MS: '5000',
  MAX_HISTORY_PER_TOPIC: '50',
  MAX_BUFFERED_BYTES: '262144',
}
const HISTORY = Number(SERVER_ENV.MAX_HISTORY_PER_TOPIC)
const RSS_TOLERANCE = 0.1

function parseSeconds(argv: string[]): number {
  const at = argv.indexOf('--seconds')
  const seconds = at === -1 ? 60 : Number(argv[at + 1])
  if (!Number.isFinite(seconds) || seconds < 5) throw new Error('--seconds must be a number >= 5')
  return seconds
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T
const between = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1))
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The server child, its log lines, and its IPC channel for memory readings. */
async function startChild(): Promise<{ child: ChildProcess; url: string; logs: Record<string, unknown>[]; ask(request: SoakRequest): Promise<SoakReply> }> {
  const child = fork(fileURLToPath(new URL('soak-server.ts', import.meta.url)), {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, ...SERVER_ENV },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  const logs: Record<string, unknown>[] = []
  let partial = ''
  let announce: (port: number) => void = () => {}
  const port = new Promise<number>((resolve) => { announce = resolve })
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines.filter((l) => l.trim() !== '')) {
      const entry = JSON.parse(line) as Record<string, unknown>
      logs.push(entry)
      if (entry.msg === 'listening') announce(Number(entry.port))
    }
  })
  const ask = (request: SoakRequest): Promise<SoakReply> => new Promise((resolve) => {
    child.once('message', (reply: SoakReply) => resolve(reply))
    child.send(request)
  })
  const bound = await Promise.race([port, delay(15_000).then(() => undefined)])
  if (bound === undefined) throw new Error('the soak server did not start within 15 s')
  return { child, url: `http://127.0.0.1:${bound}`, logs, ask }
}

async function rest(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
  return { status: res.status, body: await res.json() }
}

async function measure(ask: (request: SoakRequest) => Promise<SoakReply>): Promise<Memory> {
  const reply = await ask({ type: 'measure' })
  if (reply.type !== 'memory') throw new Error('the soak server did not report its memory')
  return reply.memory
}

/** True when `promise` settles within `ms`; the timer never outlives the wait. */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  try {
    return await Promise.race([promise.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

const mib = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MiB`

async function main(): Promise<void> {
  const seconds = parseSeconds(process.argv)
  // Warm-up covers several lifetimes of every kind of client, so the load has its full shape when memory is first read.
  const warmupMs = Math.max(10_000, seconds * 250)
  const server = await startChild()
  const wsUrl = server.url.replace('http', 'ws') + '/ws'
  const checker = new DeliveryChecker()
  const tally: Tally = { internalErrors: 0, refusedForDeletedTopic: 0, slowConsumerErrors: 0 }
  const stableTopics = Array.from({ length: LOAD.stableTopics }, (_, i) => `soak-${i}`)
  for (const topic of [...stableTopics, 'firehose']) await rest(server.url, 'POST', '/topics', { name: topic })

  const stable: CheckedSubscriber[] = []
  for (let i = 0; i < LOAD.stableSubscribers; i++) {
    const subscriber = new CheckedSubscriber(`stable-${i}`, await open(wsUrl), checker, tally, HISTORY)
    for (let k = 0; k < LOAD.topicsPerStableSubscriber; k++) subscriber.subscribe(pick(stableTopics), 0)
    if (i < 2) subscriber.subscribe('firehose', 0)
    stable.push(subscriber)
  }
  const publishers = await Promise.all(Array.from({ length: LOAD.publishers + 1 }, async (_, i) =>
    new Publisher(`pub-${i}`, await open(wsUrl), checker, tally, LOAD.publishWindow)))
  const firehose = publishers.pop() as Publisher

  const churnTopics: string[] = []
  let churnTopicCount = 0
  /** Every client lifecycle still running; the wind-down waits for all of them. */
  const running = new Set<Promise<void>>()
  let churnAlive = 0
  let loadEndedAt: number | undefined
  let churnSubscriberCount = 0
  const misbehavers = { slow: 0, slowDropped: 0, mute: 0, muteTerminated: 0 }
  let publishedSoFar = 0
  const started = Date.now()

  const publishTick = (): void => {
    // Capped, so a stall (a full window) is not followed by an unbounded catch-up burst.
    const due = Math.min(500, Math.floor(((Date.now() - started) / 1_000) * LOAD.publishesPerSecond) - publishedSoFar)
    for (let i = 0; i < due; i++) {
      const topic = churnTopics.length > 0 && Math.random() < 0.25 ? pick(churnTopics) : pick(stableTopics)
      if (!pick(publishers).publish(topic, { n: publishedSoFar, pad: 'x'.repeat(between(0, 200)) })) break
      publishedSoFar++
    }
  }
  const firehoseTick = (): void => {
    firehose.publish('firehose', { blob: 'f'.repeat(LOAD.firehosePayloadBytes) })
  }

  /** A subscriber that joins, maybe with last_n, maybe leaves one topic, then settles and disconnects. */
  const runChurnSubscriber = async (): Promise<void> => {
    const subscriber = new CheckedSubscriber(`churn-${++churnSubscriberCount}`, await open(wsUrl), checker, tally, HISTORY)
    const choices = [...stableTopics, ...churnTopics]
    for (let i = between(1, 3); i > 0; i--) subscriber.subscribe(pick(choices), Math.random() < 0.5 ? 0 : between(1, 60))
    const lifetime = between(300, 3_000)
    await delay(lifetime / 2)
    if (Math.random() < 0.5 && subscriber.topics.length > 0) subscriber.unsubscribe(pick(subscriber.topics))
    await delay(lifetime / 2)
    await subscriber.finish()
    if (subscriber.closedBy !== undefined) checker.fail(`${subscriber.name} was closed by the server: ${subscriber.closedBy}`)
    subscriber.close()
  }
  const churnSubscriberTick = (): void => {
    if (churnAlive >= LOAD.maxChurnSubscribers) return
    churnAlive++
    track(runChurnSubscriber().finally(() => churnAlive--), 'churn subscriber')
  }
  const churnTopicTick = async (): Promise<void> => {
    const name = `churn-topic-${++churnTopicCount}`
    if ((await rest(server.url, 'POST', '/topics', { name })).status === 201) churnTopics.push(name)
    if (churnTopics.length <= LOAD.liveChurnTopics) return
    // Publishers and new subscribers may still pick the topic while the delete is on its way: those get TOPIC_NOT_FOUND.
    const oldest = churnTopics[0] as string
    const deleted = await rest(server.url, 'DELETE', `/topics/${oldest}`)
    churnTopics.shift()
    if (deleted.status !== 200) checker.fail(`deleting ${oldest} answered ${deleted.status}`)
  }
  /** A reader that stops reading on the firehose: the server must drop it, which it sees once it reads again. */
  const runSlowConsumer = async (): Promise<void> => {
    const slow = await open(wsUrl)
    const closed = new Promise<void>((resolve) => slow.once('close', () => resolve()))
    slow.send(JSON.stringify({ type: 'subscribe', topic: 'firehose' }))
    slow.pause()
    const pausedAt = Date.now()
    misbehavers.slow++
    await delay(LOAD.slowConsumerPauseMs)
    slow.resume()
    const dropped = await settlesWithin(closed, 15_000)
    if (dropped) misbehavers.slowDropped++
    // Once the load stops the firehose goes quiet, and a reader paused across that moment may never fall behind.
    else if (loadEndedAt !== undefined && loadEndedAt - pausedAt < LOAD.slowConsumerPauseMs) misbehavers.slow--
    else checker.fail('a paused slow consumer was not dropped')
    slow.terminate()
  }
  /** A client that reads but never answers pings: the heartbeat must terminate it within two intervals. */
  const runMuteClient = async (): Promise<void> => {
    const mute = await open(wsUrl, { autoPong: false })
    const closed = new Promise<void>((resolve) => mute.once('close', () => resolve()))
    mute.send(JSON.stringify({ type: 'subscribe', topic: pick(stableTopics) }))
    misbehavers.mute++
    if (await settlesWithin(closed, 3 * Number(SERVER_ENV.HEARTBEAT_INTERVAL_MS))) return void misbehavers.muteTerminated++
    checker.fail('a client that never answers pings was not terminated')
    mute.terminate()
  }
  const track = (run: Promise<void>, what: string): void => {
    const tracked = run.catch((error: unknown) => checker.fail(`${what}: ${String(error)}`))
    running.add(tracked)
    void tracked.finally(() => running.delete(tracked))
  }

  const timers = [
    setInterval(publishTick, 10),
    setInterval(firehoseTick, Math.round(1_000 / LOAD.firehosePerSecond)),
    setInterval(churnSubscriberTick, LOAD.churnSubscriberEveryMs),
    setInterval(() => void churnTopicTick().catch((error: unknown) => checker.fail(`topic churn: ${String(error)}`)), LOAD.churnTopicEveryMs),
    setInterval(() => { track(runSlowConsumer(), 'slow consumer'); track(runMuteClient(), 'mute client') }, LOAD.misbehaverEveryMs),
  ]

  await delay(warmupMs)
  const warm = await measure(server.ask)
  const acksAtWarm = checker.publishesAcked
  await delay(seconds * 1_000 - warmupMs)
  for (const timer of timers) clearInterval(timer)
  loadEndedAt = Date.now()
  const loadSeconds = (Date.now() - started) / 1_000

  // Wind down: every ack in, every subscriber settled, every client gone.
  for (let waited = 0; [...publishers, firehose].some((p) => p.inFlight > 0) && waited < 15_000; waited += 50) await delay(50)
  while (running.size > 0) await Promise.all([...running])
  for (const subscriber of stable) {
    if (subscriber.closedBy !== undefined) checker.fail(`${subscriber.name} was closed by the server: ${subscriber.closedBy}`)
    await subscriber.finish()
  }
  for (const segment of checker.openSegments()) checker.settle(segment)
  for (const client of [...stable, ...publishers, firehose]) client.close()
  for (const topic of churnTopics) await rest(server.url, 'DELETE', `/topics/${topic}`)
  let connections = -1
  for (let waited = 0; waited < 15_000; waited += 100) {
    connections = ((await rest(server.url, 'GET', '/health')).body as { connections: number }).connections
    if (connections === 0) break
    await delay(100)
  }
  const after = await measure(server.ask)
  await server.ask({ type: 'stop' })
  server.child.disconnect()

  const slowLogged = server.logs.filter((line) => line.msg === 'slow consumer disconnected').length
  const serverErrors = server.logs.filter((line) => line.level === 'error')
  const rssGrowth = after.rss / warm.rss - 1
  const report = {
    seconds: Number(loadSeconds.toFixed(1)),
    publishes_acknowledged: checker.publishesAcked,
    publishes_per_second_after_warmup: Math.round((checker.publishesAcked - acksAtWarm) / (loadSeconds - warmupMs / 1_000)),
    events_checked: checker.eventsChecked,
    subscriptions_checked: checker.segmentsChecked,
    churn_subscribers: churnSubscriberCount,
    topics_created_and_deleted: churnTopicCount,
    publishes_refused_for_deleted_topic: tally.refusedForDeletedTopic,
    slow_consumers_started: misbehavers.slow,
    slow_consumers_dropped: misbehavers.slowDropped,
    slow_consumers_dropped_as_slow: slowLogged,
    mute_clients_started: misbehavers.mute,
    mute_clients_terminated: misbehavers.muteTerminated,
    internal_errors: tally.internalErrors,
    server_error_lines: serverErrors.length,
    messages_lost: checker.lost,
    duplicated_or_reordered: checker.misordered,
    problems: checker.failures.length,
    connections_left: connections,
    rss_after_warmup: mib(warm.rss),
    rss_after_run: mib(after.rss),
    rss_change_percent: Number((rssGrowth * 100).toFixed(1)),
    heap_used_after_warmup: mib(warm.heapUsed),
    heap_used_after_run: mib(after.heapUsed),
    heap_total_after_warmup: mib(warm.heapTotal),
    heap_total_after_run: mib(after.heapTotal),
    external_after_warmup: mib(warm.external),
    external_after_run: mib(after.external),
  }
  process.stdout.write(JSON.stringify(report, null, 2) + '\n')

  const problems = [
    ...checker.failures,
    ...serverErrors.map((line) => `server logged an error: ${JSON.stringify(line).slice(0, 300)}`),
    ...(tally.internalErrors > 0 ? [`${tally.internalErrors} INTERNAL errors`] : []),
    ...(rssGrowth > RSS_TOLERANCE ? [`resident memory grew ${report.rss_change_percent}% (limit ${RSS_TOLERANCE * 100}%)`] : []),
    ...(connections !== 0 ? [`${connections} connections left after every client closed`] : []),
    ...(checker.publishesAcked === 0 ? ['no publish was acknowledged'] : []),
  ]
  for (const problem of problems) process.stdout.write(`FAIL ${problem}\n`)
  process.stdout.write(problems.length === 0 ? 'soak passed\n' : `soak failed: ${problems.length} problems\n`)
  process.exitCode = problems.length === 0 ? 0 : 1
}

// A hung run must still end: this timer is unref'd, so it only fires if something else keeps the process alive.
setTimeout(() => {
  process.stderr.write('soak: did not finish in time\n')
  process.exit(1)
}, (parseSeconds(process.argv) + 120) * 1_000).unref()

await main()
