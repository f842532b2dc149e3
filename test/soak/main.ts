import { request, type LogLine } from '../helpers.js'
import { DeliveryChecker } from './checker.js'
import { startSoakChild, type SoakChild } from './server-process.js'
import { SoakLoad } from './load.js'
import type { Memory } from './server.js'
import { delay } from './util.js'

/**
 * The soak: `npm run soak -- --seconds N` (default 60). Publishers and
 * subscribers over many topics with churn, slow consumers and clients that
 * never answer pings (see load.ts), against the server in a child
 * process. It prints a JSON report, then `soak passed`, or each problem and
 * exits 1: any lost, duplicated or reordered event, any INTERNAL error or
 * error log line, a connection left behind, or resident memory after the run
 * more than 10% above its level after warm-up.
 */

const SERVER_ENV = {
  LOG_LEVEL: 'info',
  HEARTBEAT_INTERVAL_MS: '5000',
  MAX_HISTORY_PER_TOPIC: '50',
  MAX_BUFFERED_BYTES: '262144',
}
const RSS_TOLERANCE = 0.1

function parseSeconds(argv: string[]): number {
  const at = argv.indexOf('--seconds')
  const seconds = at === -1 ? 60 : Number(argv[at + 1])
  if (!Number.isFinite(seconds) || seconds < 5) throw new Error('--seconds must be a number >= 5')
  return seconds
}

const mib = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MiB`

/** Polls /health until every connection is gone (slow and mute clients are dropped by the server); returns what is left. */
async function connectionsWhenQuiet(server: SoakChild): Promise<number> {
  let connections = -1
  for (let waited = 0; waited < 15_000 && connections !== 0; waited += 100) {
    connections = ((await request(server.url, 'GET', '/health')).body as { connections: number }).connections
    if (connections !== 0) await delay(100)
  }
  return connections
}

type Run = { load: SoakLoad; checker: DeliveryChecker; logs: LogLine[]; warm: Memory; after: Memory; seconds: number; warmupSeconds: number; acksAtWarm: number; connectionsLeft: number }

function report(run: Run): Record<string, number | string> {
  const { load, checker, warm, after } = run
  return {
    seconds: Number(run.seconds.toFixed(1)),
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
    rss_after_warmup: mib(warm.rss),
    rss_after_run: mib(after.rss),
    rss_change_percent: Number(((after.rss / warm.rss - 1) * 100).toFixed(1)),
    heap_used_after_warmup: mib(warm.heapUsed),
    heap_used_after_run: mib(after.heapUsed),
    heap_total_after_warmup: mib(warm.heapTotal),
    heap_total_after_run: mib(after.heapTotal),
    external_after_warmup: mib(warm.external),
    external_after_run: mib(after.external),
  }
}

function problems(run: Run): string[] {
  const growth = run.after.rss / run.warm.rss - 1
  return [
    ...run.checker.failures,
    ...run.logs.filter((line) => line.level === 'error').map((line) => `server logged an error: ${JSON.stringify(line).slice(0, 300)}`),
    ...(run.load.tally.internalErrors > 0 ? [`${run.load.tally.internalErrors} INTERNAL errors`] : []),
    ...(growth > RSS_TOLERANCE ? [`resident memory grew ${(growth * 100).toFixed(1)}% (limit ${RSS_TOLERANCE * 100}%)`] : []),
    ...(run.connectionsLeft !== 0 ? [`${run.connectionsLeft} connections left after every client closed`] : []),
    ...(run.checker.publishesAcked === 0 ? ['no publish was acknowledged'] : []),
  ]
}

async function main(): Promise<void> {
  const seconds = parseSeconds(process.argv)
  // Warm-up covers several lifetimes of every kind of client, so the load has its full shape when memory is first read.
  const warmupMs = Math.max(10_000, seconds * 250)
  const server = await startSoakChild(SERVER_ENV)
  const checker = new DeliveryChecker()
  const target = { url: server.url, wsUrl: server.wsUrl, heartbeatIntervalMs: Number(SERVER_ENV.HEARTBEAT_INTERVAL_MS), historySize: Number(SERVER_ENV.MAX_HISTORY_PER_TOPIC) }
  const load = new SoakLoad(target, checker)
  await load.start()
  await delay(warmupMs)
  const warm = await server.measure()
  const acksAtWarm = checker.publishesAcked
  await delay(seconds * 1_000 - warmupMs)
  const loadSeconds = load.stop()
  await load.windDown()
  const connectionsLeft = await connectionsWhenQuiet(server)
  const after = await server.measure()
  await server.stop()

  const run: Run = { load, checker, logs: server.logs(), warm, after, seconds: loadSeconds, warmupSeconds: warmupMs / 1_000, acksAtWarm, connectionsLeft }
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
