import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { createClient, type PubSubClient } from '../../src/client/index.js'
import { spawnServer } from '../child.js'
import { createTopic } from '../helpers.js'
import { entered, oneTo, Recorder } from './watch.js'

const CLIENTS = 2_000
/** Clients connect in batches at the start, so the first connects do not overflow the listen backlog. */
const BATCH = 250
const STORM_WAIT_MS = 60_000
/**
 * The jitter's range for the first retry. Wider than the default 500 ms so that
 * the event loop of this one process, busy with 2,000 sockets on a shared
 * machine, cannot bunch the timers up and hide the spread.
 */
const FIRST_RETRY_MS = 2_000

/** Resident and peak resident memory of a process, in MiB, from /proc. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 }
}

/** Prints percentiles and a histogram per 250 ms; returns the percentiles. */
function describeSpread(what: string, times: number[]): { p10: number; p90: number } {
  const sorted = [...times].sort((a, b) => a - b)
  const [p0, p10, p50, p90, p100] = [0, 10, 50, 90, 100].map((p) => Math.round(percentile(sorted, p))) as [number, number, number, number, number]
  const histogram = new Map<number, number>()
  for (const ms of sorted) histogram.set(Math.floor(ms / 250) * 250, (histogram.get(Math.floor(ms / 250) * 250) ?? 0) + 1)
  console.log(`${what} (ms): min ${p0}, p10 ${p10}, median ${p50}, p90 ${p90}, max ${p100}`)
  console.log(`  count per 250 ms from: ${[...histogram].map(([from, count]) => `${from}: ${count}`).join(', ')}`)
  return { p10, p90 }
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN

test(`${CLIENTS} clients dropped at once come back spread by the jitter and all resume without a gap`, async (t) => {
  const server = await spawnServer(t)
  await createTopic(server.url, 'storm')
  const publisher = createClient(server.wsUrl)
  t.after(() => publisher.close())
  const publish = async (from: number, to: number): Promise<void> => {
    for (let n = from; n <= to; n++) await publisher.publish('storm', n)
  }
  // The subscribers' sockets, so the test can drop them all at once, as a network failure would.
  const open = new Set<WebSocket>()
  class TrackedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string[]) {
      super(url, protocols, { perMessageDeflate: false })
      open.add(this)
      this.on('close', () => open.delete(this))
    }
  }
  const clients: PubSubClient[] = []
  const recorders: Recorder[] = []
  t.after(() => clients.forEach((client) => client.close()))
  for (let i = 0; i < CLIENTS; i += BATCH) {
    const batch = Array.from({ length: BATCH }, () => createClient(server.wsUrl, { WebSocket: TrackedWebSocket, backoff: { minDelayMs: FIRST_RETRY_MS } }))
    for (const client of batch) {
      const recorder = new Recorder()
      // last_n covers every event so far, so the order in which subscribes land does not matter.
      client.subscribe('storm', recorder.callback, { lastN: 50 })
      clients.push(client)
      recorders.push(recorder)
    }
    await Promise.all(batch.map((client) => entered(client, 'connected', STORM_WAIT_MS)))
  }
  await publish(1, 5)
  await Promise.all(recorders.map((r) => r.reached(5, STORM_WAIT_MS)))
  const before = memoryOf(server.child.pid ?? 0)

  // Per client: how long its backoff held it back (drop to retry), and when it was connected again.
  const retryDelays: number[] = []
  const reconnectedAfter: number[] = []
  const cutAt = performance.now()
  for (const client of clients) {
    let droppedAt = Number.NaN
    const off = client.on('state', (state) => {
      if (state === 'disconnected') droppedAt = performance.now()
      if (state === 'connecting' && retryDelays.length < CLIENTS) retryDelays.push(performance.now() - droppedAt)
      if (state !== 'connected') return
      reconnectedAfter.push(performance.now() - cutAt)
      off()
    })
  }
  assert.equal(open.size, CLIENTS)
  for (const socket of open) socket.terminate()
  await publish(6, 15)
  await Promise.all(recorders.map((r) => r.reached(15, STORM_WAIT_MS)))
  await publish(16, 20)
  await Promise.all(recorders.map((r) => r.reached(20, STORM_WAIT_MS)))
  const after = memoryOf(server.child.pid ?? 0)

  for (const recorder of recorders) assert.deepEqual(recorder.seqs, oneTo(20))
  assert.equal(reconnectedAfter.length, CLIENTS)
  const retries = describeSpread('retry delays (drop to retry)', retryDelays)
  describeSpread('reconnected after the drop', reconnectedAfter)
  console.log(`server memory (MiB): rss ${before.rss.toFixed(1)} before the drop, ${after.rss.toFixed(1)} after; peak ${after.peak.toFixed(1)}`)
  // Full jitter draws each first retry's delay from [0, 2 s): the middle 80 % spans about 1.6 s; without jitter, a few ms.
  assert.ok(retries.p90 - retries.p10 >= FIRST_RETRY_MS / 2, `the middle 80 % of retry delays spanned ${retries.p90 - retries.p10} ms`)
  // Bounded: resuming 2,000 subscribers costs the server no more than their connections did in the first place.
  assert.ok(after.peak - before.rss < 150, `peak ${after.peak} MiB against ${before.rss} MiB before the drop`)
})
