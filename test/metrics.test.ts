import assert from 'node:assert/strict'
import { test } from 'node:test'
import { renderMetrics, type MetricsSample } from '../src/http/metrics.js'
import { connect, createTopic, request, startServer, within } from './helpers.js'
import { eventually } from './fault-support.js'

type MetricType = 'counter' | 'gauge' | 'summary' | 'histogram' | 'untyped'
type Sample = { name: string; labels: Record<string, string>; value: number }
type Family = { name: string; help?: string; type?: MetricType; samples: Sample[] }

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"'
const VALUE = '[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|NaN|[-+]Inf'
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? (${VALUE})(?: -?\\d+)?$`)
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`)
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|summary|histogram|untyped)$`)
const SUFFIXES: Record<MetricType, string[]> = {
  counter: [''], gauge: [''], untyped: [''], summary: ['', '_sum', '_count'], histogram: ['_bucket', '_sum', '_count'],
}

const parseValue = (text: string): number => (text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text))

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const m of (text ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1] as string] = m[2] as string
  return labels
}

/**
 * Parses Prometheus text exposition format 0.0.4 line by line and enforces its
 * rules: one HELP and TYPE per family before its samples, samples of a family
 * together, sample names that belong to their family's type, a final newline.
 */
function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'the exposition must end with a newline')
  const families = new Map<string, Family>()
  let current: Family | undefined
  const family = (name: string): Family => {
    let found = families.get(name)
    if (!found) {
      found = { name, samples: [] }
      families.set(name, found)
    } else {
      assert.equal(current, found, `the lines of ${name} are not together`)
    }
    current = found
    return found
  }
  text.slice(0, -1).split('\n').forEach((line, index) => {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`
    let m: RegExpExecArray | null
    if ((m = HELP_LINE.exec(line))) {
      const f = family(m[1] as string)
      assert.equal(f.help, undefined, `second HELP, ${where}`)
      assert.equal(f.samples.length, 0, `HELP after samples, ${where}`)
      f.help = m[2]
    } else if ((m = TYPE_LINE.exec(line))) {
      const f = family(m[1] as string)
      assert.equal(f.type, undefined, `second TYPE, ${where}`)
      assert.equal(f.samples.length, 0, `TYPE after samples, ${where}`)
      f.type = m[2] as MetricType
    } else if ((m = SAMPLE_LINE.exec(line))) {
      const name = m[1] as string
      const owner = current && (current.type ? SUFFIXES[current.type] : ['']).some((s) => name === current?.name + s)
      assert.ok(owner && current, `sample outside its family, ${where}`)
      current.samples.push({ name, labels: parseLabels(m[2]), value: parseValue(m[3] as string) })
    } else {
      assert.ok(line === '' || (line.startsWith('#') && !/^# (HELP|TYPE) /.test(line)), `not valid exposition format, ${where}`)
    }
  })
  return families
}

const REQUIRED: [string, MetricType][] = [
  ['pubsub_connections', 'gauge'],
  ['pubsub_topics', 'gauge'],
  ['pubsub_subscriptions', 'gauge'],
  ['pubsub_messages_published_total', 'counter'],
  ['pubsub_messages_delivered_total', 'counter'],
  ['pubsub_slow_consumer_disconnects_total', 'counter'],
  ['pubsub_connections_refused_total', 'counter'],
  ['pubsub_bad_requests_total', 'counter'],
  ['pubsub_heartbeat_terminations_total', 'counter'],
  ['process_resident_memory_bytes', 'gauge'],
  ['nodejs_eventloop_lag_seconds', 'summary'],
]

/** The unlabelled sample called `name`, in whichever family holds it (`x_count` is in summary `x`). */
const valueOf = (families: Map<string, Family>, name: string): number | undefined =>
  [...families.values()].flatMap((f) => f.samples).find((s) => s.name === name && Object.keys(s.labels).length === 0)?.value

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await request(url, 'GET', '/metrics')
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  return parseExposition(res.text)
}

test('/metrics is valid exposition format with HELP and TYPE for every family', async (t) => {
  const server = await startServer(t)
  const families = await scrape(server.url)
  for (const [name, type] of REQUIRED) {
    const family = families.get(name)
    assert.ok(family, `${name} is missing`)
    assert.equal(family.type, type, name)
    assert.ok(family.help && family.help.length > 10, `${name} needs a HELP text`)
  }
  for (const family of families.values()) {
    assert.ok(family.help !== undefined && family.type !== undefined, `${family.name} lacks HELP or TYPE`)
    assert.ok(family.samples.length > 0, `${family.name} has no sample`)
    assert.equal(family.type === 'counter', family.name.endsWith('_total'), `${family.name}: counters, and only counters, end in _total`)
    assert.ok(!/_(milliseconds|ms|kilobytes|megabytes)$/.test(family.name), `${family.name} must use base units`)
  }
  assert.ok((valueOf(families, 'process_resident_memory_bytes') ?? 0) > 1_000_000)
  const lag = families.get('nodejs_eventloop_lag_seconds')?.samples ?? []
  assert.deepEqual(lag.map((s) => s.labels.quantile ?? s.name), ['0.5', '0.9', '0.99', 'nodejs_eventloop_lag_seconds_sum', 'nodejs_eventloop_lag_seconds_count'])
})

test('event-loop lag is sampled from the first scrape on', async (t) => {
  const server = await startServer(t)
  const first = await scrape(server.url)
  assert.equal(valueOf(first, 'nodejs_eventloop_lag_seconds_count'), 0)
  // The histogram samples every 10 ms: scrape until it has.
  let second = first
  await eventually(async () => {
    second = await scrape(server.url)
    return (valueOf(second, 'nodejs_eventloop_lag_seconds_count') ?? 0) > 0
  }, 'the event-loop lag histogram to take a sample')
  const quantiles = second.get('nodejs_eventloop_lag_seconds')?.samples.filter((s) => s.labels.quantile) ?? []
  assert.equal(quantiles.length, 3)
  for (const q of quantiles) assert.ok(q.value >= 0 && q.value < 60, `quantile ${q.labels.quantile} = ${q.value}`)
})

test('the parser used here rejects what the format forbids', () => {
  const bad = [
    'no_newline 1',
    'sample_before_type 1\n# TYPE sample_before_type gauge\n',
    '# TYPE a gauge\n# TYPE a gauge\na 1\n',
    '# TYPE a gauge\na one\n',
    '# TYPE a gauge\na{l="x} 1\n',
    '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n',
    '# TYPE a counter\na_sum 1\n',
  ]
  for (const text of bad) assert.throws(() => parseExposition(text), assert.AssertionError, JSON.stringify(text))
})

test('the counters follow what clients do', async (t) => {
  const server = await startServer(t, { maxSubscriptionsPerConnection: 1 })
  await createTopic(server.url, 'orders')
  await createTopic(server.url, 'audit')
  const subscriber = await connect(t, server.wsUrl)
  subscriber.send({ type: 'subscribe', topic: 'orders', request_id: 's' })
  assert.equal((await subscriber.next()).type, 'ack')
  subscriber.send('{not json')
  assert.equal((await subscriber.next()).error?.code, 'BAD_REQUEST')
  subscriber.send({ type: 'subscribe', topic: 'audit' }) // over the limit: refused as BAD_REQUEST too
  assert.equal((await subscriber.next()).error?.code, 'BAD_REQUEST')
  for (let i = 0; i < 3; i++) await request(server.url, 'POST', '/topics/orders/messages', { payload: i })
  assert.equal((await subscriber.drain()).length, 3)

  const families = await scrape(server.url)
  assert.equal(valueOf(families, 'pubsub_connections'), 1)
  assert.equal(valueOf(families, 'pubsub_connections_accepted_total'), 1)
  assert.equal(valueOf(families, 'pubsub_topics'), 2)
  assert.equal(valueOf(families, 'pubsub_subscriptions'), 1)
  assert.equal(valueOf(families, 'pubsub_messages_published_total'), 3)
  assert.equal(valueOf(families, 'pubsub_messages_delivered_total'), 3)
  assert.equal(valueOf(families, 'pubsub_bad_requests_total'), 2)
  assert.equal(valueOf(families, 'pubsub_slow_consumer_disconnects_total'), 0)
  assert.equal(valueOf(families, 'pubsub_connections_refused_total'), 0)
})

test('refused upgrades are counted in /metrics and /stats', async (t) => {
  const server = await startServer(t, { apiKey: 'the-key' })
  const auth = { 'x-api-key': 'the-key' }
  await assert.rejects(connect(t, server.wsUrl), /Unexpected server response: 401/)
  await assert.rejects(connect(t, server.wsUrl.replace(/\/ws$/, '/elsewhere'), { headers: auth }), /Unexpected server response: 404/)
  await connect(t, server.wsUrl, { headers: auth })
  const stats = (await request(server.url, 'GET', '/stats', undefined, auth)).body as Record<string, unknown>
  assert.equal(stats.connections_refused, 2)
  assert.equal(stats.slow_consumers, 0)
  const res = await request(server.url, 'GET', '/metrics', undefined, auth)
  assert.equal(valueOf(parseExposition(res.text), 'pubsub_connections_refused_total'), 2)
})

test('a connection that ignores heartbeats is counted when it is terminated', async (t) => {
  const server = await startServer(t, { heartbeatIntervalMs: 50 })
  const silent = await connect(t, server.wsUrl, { autoPong: false })
  await within(silent.closed, 'the silent connection to be terminated')
  const families = await scrape(server.url)
  assert.equal(valueOf(families, 'pubsub_heartbeat_terminations_total'), 1)
  assert.equal(valueOf(families, 'pubsub_connections'), 0)
})

test('each gateway counter is rendered under its own family', () => {
  const sample: MetricsSample = {
    broker: { topics: [{ name: 'a', messages: 1, subscribers: 0 }, { name: 'b', messages: 0, subscribers: 0 }], subscriptions: 3, messagesPublished: 4, messagesDelivered: 5 },
    gateway: { connections: 6, connectionsAccepted: 7, connectionsRefused: 16, slowConsumers: 8, heartbeatTerminations: 9, badRequests: 10, internalErrors: 11 },
    refusals: { missing_credential: 0, invalid_credential: 0, token_expired: 0, forbidden: 0 },
    uptimeSeconds: 12.5,
    residentMemoryBytes: 13,
    cpuSeconds: 14.25,
    loopLag: { quantiles: [[0.5, Number.NaN], [0.99, 0.002]], sumSeconds: 0.5, count: 15 },
  }
  const families = parseExposition(renderMetrics(sample))
  const expected: Record<string, number> = {
    pubsub_topics: 2, pubsub_subscriptions: 3, pubsub_messages_published_total: 4, pubsub_messages_delivered_total: 5,
    pubsub_connections: 6, pubsub_connections_accepted_total: 7, pubsub_connections_refused_total: 16, pubsub_slow_consumer_disconnects_total: 8,
    pubsub_heartbeat_terminations_total: 9, pubsub_bad_requests_total: 10, pubsub_internal_errors_total: 11,
    pubsub_uptime_seconds: 12.5, process_resident_memory_bytes: 13, process_cpu_seconds_total: 14.25,
    nodejs_eventloop_lag_seconds_sum: 0.5, nodejs_eventloop_lag_seconds_count: 15,
  }
  for (const [name, value] of Object.entries(expected)) assert.equal(valueOf(families, name), value, name)
  const quantiles = families.get('nodejs_eventloop_lag_seconds')?.samples.filter((s) => s.labels.quantile) ?? []
  assert.ok(Number.isNaN(quantiles[0]?.value))
  assert.equal(quantiles[1]?.value, 0.002)
})

test('/metrics needs the API key when one is set, as a bearer token', async (t) => {
  const server = await startServer(t, { apiKey: 'scrape-key' })
  assert.equal((await request(server.url, 'GET', '/metrics')).status, 401)
  const res = await request(server.url, 'GET', '/metrics', undefined, { authorization: 'Bearer scrape-key' })
  assert.equal(res.status, 200)
  assert.ok(parseExposition(res.text).has('pubsub_connections'))
})
