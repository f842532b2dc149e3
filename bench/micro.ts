import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { Broker, type Subscriber } from '../src/broker/broker.js'

/**
 * `npm run bench:micro`: shows, in-process and without sockets, that
 * 1. subscribe, unsubscribe, disconnect and topic deletion cost the same
 *    whether the broker holds a thousand other connections or a hundred thousand;
 * 2. publishing allocates per event, not per subscriber: the bytes allocated
 *    per publish stay flat from 10 to 10,000 subscribers (the event is encoded
 *    once, as its WebSocket frame; every subscriber gets the same Buffer);
 * 3. history holds about the memory of the events it keeps, even for a quiet
 *    topic whose events were published between a busy topic's.
 */

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let sink: Buffer | undefined

/** Keeps the frame a connection would write to its socket. */
class FakeSubscriber implements Subscriber {
  send(frame: Buffer): void {
    sink = frame
  }
}

const subscriber = (): FakeSubscriber => new FakeSubscriber()

function newBroker(): Broker {
  return new Broker({ maxHistoryPerTopic: 50, maxTopics: 1_000_000, maxSubscriptionsPerConnection: 1_000 })
}

/** A broker holding `others` connections, each on one of 100 topics, plus one 'busy' topic they all share. */
function populated(others: number): Broker {
  const broker = newBroker()
  broker.createTopic('busy')
  for (let t = 0; t < 100; t++) broker.createTopic(`t${t}`)
  for (let i = 0; i < others; i++) {
    const s = subscriber()
    broker.subscribe('busy', s, { lastN: 0 })
    broker.subscribe(`t${i % 100}`, s, { lastN: 0 })
  }
  return broker
}

/** Nanoseconds per call of `op`, best of 5 batches of `count`. */
function nsPerOp(count: number, op: (i: number) => void): number {
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < 5; round++) {
    const began = process.hrtime.bigint()
    for (let i = 0; i < count; i++) op(i)
    best = Math.min(best, Number(process.hrtime.bigint() - began) / count)
  }
  return best
}

const OPS = 20_000

function churn(others: number): Record<string, number> {
  const broker = populated(others)
  const fresh = Array.from({ length: OPS }, subscriber)
  const subscribe = nsPerOp(OPS, (i) => {
    const s = fresh[i] as FakeSubscriber
    broker.subscribe('busy', s, { lastN: 0 })
    broker.unsubscribe('busy', s)
  })
  const disconnect = nsPerOp(OPS, (i) => {
    const s = fresh[i] as FakeSubscriber
    broker.subscribe('busy', s, { lastN: 0 })
    broker.subscribe('t1', s, { lastN: 0 })
    broker.subscribe('t2', s, { lastN: 0 })
    broker.unsubscribeAll(s)
  })
  let made = 0
  const deleteTopic = nsPerOp(2_000, () => {
    const name = `short-lived-${made++}`
    broker.createTopic(name)
    for (let k = 0; k < 10; k++) broker.subscribe(name, fresh[k] as FakeSubscriber, { lastN: 0 })
    broker.deleteTopic(name)
  })
  return { 'subscribe + unsubscribe': subscribe, 'disconnect (3 topics)': disconnect, 'create, 10 subscribe, delete topic': deleteTopic }
}

function bytesPerPublish(subscribers: number): number {
  const broker = newBroker()
  broker.createTopic('fan')
  for (let i = 0; i < subscribers; i++) broker.subscribe('fan', subscriber(), { lastN: 0 })
  const message = { id: 'fixed-id', payload: { n: 1, text: 'x'.repeat(100) } }
  for (let i = 0; i < 2_000; i++) broker.publish('fan', message) // warm up the JIT
  const publishes = 100
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < 5; round++) {
    gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < publishes; i++) broker.publish('fan', message)
    best = Math.min(best, (process.memoryUsage().heapUsed - before) / publishes)
  }
  return best
}

/** Bytes of the events 1 busy and `quiet` quiet topics keep in history, and of the memory those events pin. */
function historyMemory(quiet: number): { held: number; pinned: number } {
  const broker = newBroker()
  const names = ['busy', ...Array.from({ length: quiet }, (_, q) => `quiet-${q}`)]
  for (const name of names) broker.createTopic(name)
  const message = { payload: { n: 1, text: 'x'.repeat(100) } }
  for (let round = 0; round < 50; round++) {
    for (let q = 0; q < quiet; q++) {
      broker.publish(`quiet-${q}`, message)
      for (let k = 0; k < 30; k++) broker.publish('busy', message)
    }
  }
  const memory = new Set<ArrayBufferLike>()
  let held = 0
  for (const name of names) {
    const history = broker.history(name, { lastN: 50 })
    if (!history.ok) throw new Error(history.error.message)
    for (const frame of history.value.events) {
      held += frame.length
      memory.add(frame.buffer)
    }
  }
  let pinned = 0
  for (const buffer of memory) pinned += buffer.byteLength
  return { held, pinned }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(12)

console.log('Broker operations, ns per operation (best of 5), by number of other connections')
const sizes = [1_000, 10_000, 100_000]
const rows = sizes.map(churn)
console.log(`${''.padEnd(36)}${sizes.map((n) => fmt(n)).join('')}`)
for (const name of Object.keys(rows[0] ?? {})) console.log(`${name.padEnd(36)}${rows.map((r) => fmt(r[name] as number)).join('')}`)

console.log('\nHeap bytes allocated per publish (best of 5), by subscriber count')
const fanouts = [10, 1_000, 10_000]
bytesPerPublish(10) // a first pass pays for compiling the publish path; not part of any figure
console.log(`${''.padEnd(36)}${fanouts.map((n) => fmt(n)).join('')}`)
console.log(`${'bytes per publish'.padEnd(36)}${fanouts.map((n) => fmt(bytesPerPublish(n))).join('')}`)
console.log('\nHistory memory: 50 events kept per topic, each quiet event published between 30 busy ones')
const quietCounts = [100, 1_000]
const memory = quietCounts.map(historyMemory)
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1).padStart(12)
console.log(`${'quiet topics'.padEnd(36)}${quietCounts.map((n) => fmt(n)).join('')}`)
console.log(`${'MiB of events held'.padEnd(36)}${memory.map((m) => mib(m.held)).join('')}`)
console.log(`${'MiB of memory they keep alive'.padEnd(36)}${memory.map((m) => mib(m.pinned)).join('')}`)
if (sink === undefined) throw new Error('no event was delivered')
