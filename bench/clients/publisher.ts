import { DIALECTS, nowMicros, payloadJson, type Dialect } from '../lib/dialect.js'
import { portFor, toParent, type PublishPlan, type PublisherCommand } from '../lib/messages.js'
import { openRawClient, type RawClient } from '../lib/raw-client.js'
import { Histogram } from '../lib/stats.js'

/**
 * A client process holding the publisher connections. Topic i is published
 * by connection i % publishers. In `window` mode a topic may run at most
 * `window` events ahead of its slowest subscriber (the subscriber processes
 * report what they have seen), so the server is measured at full speed
 * without queues growing until a slow-consumer limit trips. In `rate` mode
 * events leave at a fixed rate, spread over the topics, and once measuring
 * each ack's delay after its publish is recorded. Publisher i connects to
 * node i of the target (round the nodes).
 */

/** One connection and the topics it publishes, with the one it tries next. */
type Publisher = { client: RawClient; unacked: number; topics: number[]; nextTopic: number }

/** Publishes a connection may have waiting for their ack. */
const ACK_WINDOW = 512
const RATE_TICK_MS = 1

let dialect: Dialect
let publishers: Publisher[] = []
let topics: string[] = []
let sent: number[] = []
let delivered: number[] = []
let plan: PublishPlan
let payloadBytes = 128
let running = false
let stopping: (() => void) | undefined
let rateTimer: NodeJS.Timeout | undefined
let behind = false
let nextRequestId = 1
/** Rate mode spreads its publishes over all topics in turn. */
let nextRateTopic = 0
/** Rate mode, once measuring: when each publish awaiting its ack left, by request id, in µs. */
let sentAtById: Map<number, number> | undefined
let ackLatency = new Histogram()

function fail(reason: string): void {
  toParent({ type: 'failed', reason })
}

async function open(command: Extract<PublisherCommand, { cmd: 'open' }>): Promise<void> {
  dialect = DIALECTS[command.target.dialect]
  topics = command.topics
  sent = topics.map(() => 0)
  delivered = topics.map(() => 0)
  plan = command.plan
  payloadBytes = command.payloadBytes
  publishers = await Promise.all(Array.from({ length: command.publishers }, (_, i) => connect(command, i)))
  toParent({ type: 'ready' })
}

function connect(command: Extract<PublisherCommand, { cmd: 'open' }>, position: number): Promise<Publisher> {
  return new Promise((resolve, reject) => {
    let publisher: Publisher | undefined
    const onText = (frame: Buffer): void => {
      if (!publisher) {
        if (dialect.isReady(frame)) resolvePublisher()
        return
      }
      if (dialect.isAck(frame)) {
        // Only an ack that reopens a full window can let this connection publish;
        // the topics' windows move with progress reports, which pump on their own.
        const wasFull = publisher.unacked === ACK_WINDOW
        publisher.unacked--
        if (sentAtById) recordAck(frame)
        if (stopping && publishers.every((p) => p.unacked === 0)) stopping()
        else if (wasFull) pumpPublisher(publisher)
        return
      }
      const reply = dialect.heartbeatReply(frame)
      if (reply) return publisher.client.sendText(reply)
      fail(`publisher got an unexpected frame: ${frame.toString().slice(0, 200)}`)
    }
    let client: RawClient | undefined
    const resolvePublisher = (): void => {
      if (!client || publisher) return
      const mine = topics.map((_, index) => index).filter((index) => index % command.publishers === position)
      publisher = { client, unacked: 0, topics: mine, nextTopic: 0 }
      resolve(publisher)
    }
    const onClose = (reason: string): void => {
      if (publisher) fail(`a publisher was disconnected: ${reason}`)
      else reject(new Error(reason))
    }
    openRawClient(command.target.host, portFor(command.target, position), dialect.path, onText, onClose).then((opened) => {
      client = opened
      for (const frame of dialect.hello) opened.sendText(frame)
      if (dialect.hello.length === 0) resolvePublisher()
    }, reject)
  })
}

function publishOne(index: number): void {
  const publisher = publishers[index % publishers.length] as Publisher
  const n = ++(sent[index] as number)
  publisher.unacked++
  const requestId = nextRequestId++
  const sentAt = nowMicros()
  sentAtById?.set(requestId, sentAt)
  publisher.client.sendText(dialect.publish(topics[index] as string, requestId, payloadJson(n, sentAt, payloadBytes)))
}

function recordAck(frame: Buffer): void {
  const requestId = dialect.ackRequestId(frame)
  const sentAt = requestId === undefined ? undefined : sentAtById?.get(requestId)
  if (requestId === undefined || sentAt === undefined) return
  sentAtById?.delete(requestId)
  ackLatency.record(nowMicros() - sentAt)
}

/** Window mode: fills every publisher's windows. */
function pump(): void {
  for (const publisher of publishers) pumpPublisher(publisher)
}

/** Fills one connection's ack window from its topics' windows, taking the topics in turn so none starves. */
function pumpPublisher(publisher: Publisher): void {
  if (!running || plan.mode !== 'window') return
  const own = publisher.topics
  let blocked = 0
  while (blocked < own.length && publisher.unacked < ACK_WINDOW) {
    const index = own[publisher.nextTopic] as number
    publisher.nextTopic = (publisher.nextTopic + 1) % own.length
    if ((sent[index] as number) - (delivered[index] as number) < plan.window) {
      publishOne(index)
      blocked = 0
    } else blocked++
  }
}

function startRate(perSecond: number, maxInFlight: number): void {
  const began = performance.now()
  let due = 0
  rateTimer = setInterval(() => {
    const target = Math.floor(((performance.now() - began) / 1000) * perSecond)
    for (; due < target; due++) {
      const index = nextRateTopic
      nextRateTopic = (nextRateTopic + 1) % topics.length
      if ((sent[index] as number) - (delivered[index] as number) >= maxInFlight) {
        behind = true
        continue
      }
      publishOne(index)
    }
  }, RATE_TICK_MS)
}

function stop(): void {
  running = false
  clearInterval(rateTimer)
  const report = (): void => {
    stopping = undefined
    const counts: Record<string, number> = {}
    topics.forEach((topic, i) => { counts[topic] = sent[i] as number })
    toParent({ type: 'stopped', sent: counts, behind, ackLatency: ackLatency.toSparse() })
  }
  if (publishers.every((p) => p.unacked === 0)) report()
  else stopping = report
}

process.on('message', (command: PublisherCommand) => {
  switch (command.cmd) {
    case 'open':
      open(command).catch((error: unknown) => fail(`could not connect: ${error instanceof Error ? error.message : String(error)}`))
      return
    case 'go':
      running = true
      if (plan.mode === 'rate') startRate(plan.perSecond, plan.maxInFlight)
      else pump()
      return
    case 'measure':
      if (plan.mode !== 'rate') return
      sentAtById = new Map()
      ackLatency = new Histogram()
      return
    case 'progress':
      topics.forEach((topic, i) => {
        const seen = command.minByTopic[topic]
        if (seen !== undefined) delivered[i] = seen
      })
      pump()
      return
    case 'stop':
      stop()
      return
  }
})

process.on('disconnect', () => {
  clearInterval(rateTimer)
  for (const p of publishers) p.client.close()
  process.exit(0)
})
