import { DIALECTS, nowMicros, readStamp, type Dialect } from '../lib/dialect.js'
import { inBatches, portFor, portForTopic, toParent, type SubscriberCommand } from '../lib/messages.js'
import { openRawClient, type RawClient } from '../lib/raw-client.js'
import { Histogram } from '../lib/stats.js'

/**
 * A client process holding many subscriber connections, each on one topic.
 * Every delivery is checked: its n must be exactly one more than the last
 * one this connection saw, so a lost, duplicated or reordered event fails.
 */

/** One in this many events is also parsed in full, to check the frame is the event it claims. */
const FULL_PARSE_EVERY = 4096

type Subscription = { topic: string; seen: number; client?: RawClient }

let connections: Subscription[] = []
let dialect: Dialect
let latency = new Histogram()
let recording = false
let total = 0
/** The total in the last progress report: an unchanged one is not sent again. */
let reportedTotal = 0
let expected: Record<string, number> | undefined
/** Connections that have not yet seen every expected event; counted down so each delivery costs O(1). */
let unfinished = 0
let reportTimer: NodeJS.Timeout | undefined
let failed = false

function fail(reason: string): void {
  if (failed) return
  failed = true
  toParent({ type: 'failed', reason })
}

function onEvent(sub: Subscription, frame: Buffer): void {
  const stamp = readStamp(frame, recording)
  if (!stamp) return fail(`an event on '${sub.topic}' carries no n: ${frame.toString().slice(0, 200)}`)
  if (stamp.n !== sub.seen + 1) {
    return fail(`on '${sub.topic}' event n=${stamp.n} arrived after n=${sub.seen}: ${stamp.n <= sub.seen ? 'duplicated or reordered' : 'lost'}`)
  }
  sub.seen = stamp.n
  total++
  if (recording) latency.record(nowMicros() - stamp.t)
  if (total % FULL_PARSE_EVERY === 0) checkInFull(sub, frame, stamp.n)
  if (expected && sub.seen === expected[sub.topic]) {
    unfinished--
    maybeDone()
  }
}

function checkInFull(sub: Subscription, frame: Buffer, n: number): void {
  const event = dialect.eventOf(frame) as { topic?: unknown; message?: { payload?: { n?: unknown } } } | undefined
  if (event?.topic !== sub.topic || event.message?.payload?.n !== n) fail(`malformed event: ${frame.toString().slice(0, 200)}`)
}

async function open(command: Extract<SubscriberCommand, { cmd: 'open' }>): Promise<void> {
  dialect = DIALECTS[command.target.dialect]
  connections = command.topics.map((topic) => ({ topic, seen: 0 }))
  await inBatches(connections.length, command.concurrency, (index) => subscribe(connections[index] as Subscription, index, command))
  reportTimer = setInterval(report, command.reportEveryMs)
  toParent({ type: 'ready', connections: connections.length })
}

function subscribe(sub: Subscription, index: number, command: Extract<SubscriberCommand, { cmd: 'open' }>): Promise<void> {
  const { host } = command.target
  const port = command.target.subscribersByTopic ? portForTopic(command.target, sub.topic) : portFor(command.target, index)
  return new Promise<void>((resolve, reject) => {
    let state: 'hello' | 'subscribing' | 'live' = 'hello'
    const onText = (frame: Buffer): void => {
      if (state === 'live') {
        if (dialect.isEvent(frame)) return onEvent(sub, frame)
        const reply = dialect.heartbeatReply(frame)
        if (reply) return sub.client?.sendText(reply)
        return fail(`unexpected frame: ${frame.toString().slice(0, 200)}`)
      }
      if (state === 'hello' && dialect.isReady(frame)) {
        state = 'subscribing'
        sub.client?.sendText(dialect.subscribe(sub.topic, index))
      } else if (state === 'subscribing' && dialect.isAck(frame)) {
        state = 'live'
        resolve()
      } else if (!dialect.heartbeatReply(frame) && !dialect.isPreamble(frame)) {
        reject(new Error(`unexpected frame while subscribing: ${frame.toString().slice(0, 200)}`))
      }
    }
    const onClose = (reason: string): void => {
      if (state !== 'live') reject(new Error(`closed while subscribing: ${reason}`))
      else fail(`a subscriber on '${sub.topic}' was disconnected: ${reason}`)
    }
    openRawClient(host, port, dialect.path, onText, onClose).then((client) => {
      sub.client = client
      for (const frame of dialect.hello) client.sendText(frame)
      // Without a hello exchange (the service's protocol) the connection is ready at once.
      if (dialect.hello.length === 0) {
        state = 'subscribing'
        client.sendText(dialect.subscribe(sub.topic, index))
      }
    }, reject)
  })
}

function report(): void {
  if (total === reportedTotal) return
  reportedTotal = total
  const minByTopic: Record<string, number> = {}
  for (const sub of connections) {
    const min = minByTopic[sub.topic]
    if (min === undefined || sub.seen < min) minByTopic[sub.topic] = sub.seen
  }
  toParent({ type: 'progress', total, minByTopic })
}

function maybeDone(): void {
  if (!expected || unfinished > 0) return
  expected = undefined
  toParent({ type: 'done', total, latency: latency.toSparse() })
}

process.on('message', (command: SubscriberCommand) => {
  switch (command.cmd) {
    case 'open':
      open(command).catch((error: unknown) => fail(`could not subscribe: ${error instanceof Error ? error.message : String(error)}`))
      return
    case 'measure':
      latency = new Histogram()
      recording = true
      return
    case 'expect':
      expected = command.sent
      unfinished = connections.filter((sub) => sub.seen < (command.sent[sub.topic] ?? 0)).length
      maybeDone()
      return
  }
})

// The orchestrator ends this process by closing the IPC channel (or killing it).
process.on('disconnect', () => {
  clearInterval(reportTimer)
  for (const sub of connections) sub.client?.close()
  process.exit(0)
})
