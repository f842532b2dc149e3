import { request, type HttpResult } from '../helpers.js'
import { CheckedSubscriber, newTally, open, Publisher, type Barrier, type Connection } from './clients.js'
import type { DeliveryChecker } from './checker.js'
import type { SoakNode, SoakNodes } from './nodes.js'
import { between, delay, pick, settlesWithin } from './util.js'

/** The soak's traffic: who connects, subscribes, publishes and misbehaves, and how often. */

export const LOAD = {
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
  /** How long a slow consumer stops reading. */
  slowConsumerPauseMs: 4_000,
  /**
   * A slow consumer must have been dropped once this much was published on the
   * firehose while it was paused: past what the socket buffers absorb (up to
   * 4 MiB of send buffer on Linux; a receive buffer does not grow while nobody
   * reads) plus the server's queue limit. On a machine too busy to publish
   * that much in the pause, the consumer is not judged.
   */
  slowConsumerBacklogBytes: 6 * 1_048_576,
}

export type LoadTarget = { nodes: SoakNodes; heartbeatIntervalMs: number; historySize: number }

export class SoakLoad {
  readonly tally = newTally()
  readonly counts = { churnSubscribers: 0, topicsCreated: 0, slowConsumers: 0, slowDropped: 0, slowNotJudged: 0, muteClients: 0, muteTerminated: 0 }
  private readonly stableTopics = Array.from({ length: LOAD.stableTopics }, (_, i) => `soak-${i}`)
  private readonly churnTopics: string[] = []
  /** Churn topics whose delete is on its way. */
  private readonly deleting = new Set<string>()
  private stable: CheckedSubscriber[] = []
  private publishers: Publisher[] = []
  private firehose: Publisher | undefined
  /** Every client lifecycle still running; the wind-down waits for all of them. */
  private readonly running = new Set<Promise<void>>()
  private churnAlive = 0
  private published = 0
  private startedAt = 0
  private endedAt: number | undefined
  private timers: NodeJS.Timeout[] = []

  /** In a cluster a subscription ends once it has caught up: another node's acks run ahead of this node's events. */
  private readonly barrier: Barrier

  constructor(private readonly target: LoadTarget, private readonly checker: DeliveryChecker) {
    this.barrier = target.nodes.clustered ? 'catch-up' : 'ping'
  }

  async start(): Promise<void> {
    const { historySize } = this.target
    for (const topic of [...this.stableTopics, 'firehose']) await this.rest('POST', '/topics', { name: topic })
    // Stable clients move to another node when theirs is killed; subscribers resume where they were.
    const reconnect = (): Promise<Connection> => this.connect()
    for (let i = 0; i < LOAD.stableSubscribers; i++) {
      const subscriber = new CheckedSubscriber(`stable-${i}`, await this.connect(), this.checker, this.tally, historySize, this.barrier, reconnect)
      for (let k = 0; k < LOAD.topicsPerStableSubscriber; k++) subscriber.subscribe(pick(this.stableTopics), 0)
      if (i < 2) subscriber.subscribe('firehose', 0)
      this.stable.push(subscriber)
    }
    for (let i = 0; i < LOAD.publishers; i++) this.publishers.push(new Publisher(`pub-${i}`, await this.connect(), this.checker, this.tally, LOAD.publishWindow, reconnect))
    this.firehose = new Publisher('firehose', await this.connect(), this.checker, this.tally, LOAD.publishWindow, reconnect)
    this.startedAt = Date.now()
    this.timers = [
      setInterval(() => this.publishDue(), 10),
      setInterval(() => this.firehose?.publish('firehose', { blob: 'f'.repeat(LOAD.firehosePayloadBytes) }), Math.round(1_000 / LOAD.firehosePerSecond)),
      setInterval(() => this.startChurnSubscriber(), LOAD.churnSubscriberEveryMs),
      setInterval(() => this.track(this.churnTopic(), 'topic churn'), LOAD.churnTopicEveryMs),
      setInterval(() => { this.track(this.slowConsumer(), 'slow consumer'); this.track(this.muteClient(), 'mute client') }, LOAD.misbehaverEveryMs),
    ]
  }

  /** Stops starting anything new; returns how long the load ran, in seconds. */
  stop(): number {
    for (const timer of this.timers) clearInterval(timer)
    this.endedAt = Date.now()
    return (this.endedAt - this.startedAt) / 1_000
  }

  /** Every ack in, every lifecycle finished, every healthy subscription settled, every client closed, churn topics gone. */
  async windDown(): Promise<void> {
    const publishers = this.firehose ? [...this.publishers, this.firehose] : this.publishers
    for (let waited = 0; publishers.some((p) => p.inFlight > 0) && waited < 15_000; waited += 50) await delay(50)
    const unanswered = publishers.reduce((sum, publisher) => sum + publisher.inFlight, 0)
    if (unanswered > 0) this.checker.fail(`${unanswered} publishes got no reply within 15 s of the end of the load`)
    while (this.running.size > 0) await Promise.all([...this.running])
    for (const subscriber of this.stable) {
      if (subscriber.closedBy !== undefined) this.checker.fail(`${subscriber.name} was closed by the server: ${subscriber.closedBy}`)
      await subscriber.finish()
    }
    for (const segment of this.checker.openSegments()) this.checker.settle(segment)
    for (const client of [...this.stable, ...publishers]) client.close()
    for (const topic of this.churnTopics) await this.rest('DELETE', `/topics/${topic}`)
  }

  /** A WebSocket to the next live node; one the soak kills on the way is tried again on another. */
  private async connect(): Promise<Connection> {
    const node = this.target.nodes.pick()
    try {
      return { ws: await open(node.wsUrl), node }
    } catch (error) {
      if (!node.killed) throw error
      return this.connect()
    }
  }

  /**
   * A REST call to the next live node. If the soak killed that node on the
   * way, it is sent again to another, and the answer to a repeat counts as
   * the first one's (a topic created or deleted just before the kill).
   */
  private async rest(method: string, path: string, body?: unknown): Promise<HttpResult & { repeated: boolean }> {
    const node: SoakNode = this.target.nodes.pick()
    try {
      return { ...(await request(node.url, method, path, body)), repeated: false }
    } catch (error) {
      if (!node.killed) throw error
      return { ...(await this.rest(method, path, body)), repeated: true }
    }
  }

  private track(run: Promise<void>, what: string): void {
    const tracked = run.catch((error: unknown) => this.checker.fail(`${what}: ${String(error)}`))
    this.running.add(tracked)
    void tracked.finally(() => this.running.delete(tracked))
  }

  private publishDue(): void {
    // Capped, so a stall (a full window) is not followed by an unbounded catch-up burst.
    const due = Math.min(500, Math.floor(((Date.now() - this.startedAt) / 1_000) * LOAD.publishesPerSecond) - this.published)
    for (let i = 0; i < due; i++) {
      const topic = this.churnTopics.length > 0 && Math.random() < 0.25 ? pick(this.churnTopics) : pick(this.stableTopics)
      if (!pick(this.publishers).publish(topic, { n: this.published, pad: 'x'.repeat(between(0, 200)) })) break
      this.published++
    }
  }

  private startChurnSubscriber(): void {
    if (this.churnAlive >= LOAD.maxChurnSubscribers) return
    this.churnAlive++
    this.track(this.churnSubscriber().finally(() => this.churnAlive--), 'churn subscriber')
  }

  /** A subscriber that joins, maybe with last_n, maybe leaves one topic, then settles and disconnects. */
  private async churnSubscriber(): Promise<void> {
    const name = `churn-${++this.counts.churnSubscribers}`
    const subscriber = new CheckedSubscriber(name, await this.connect(), this.checker, this.tally, this.target.historySize, this.barrier)
    const choices = [...this.stableTopics, ...this.churnTopics]
    for (let i = between(1, 3); i > 0; i--) subscriber.subscribe(pick(choices), Math.random() < 0.5 ? 0 : between(1, 60))
    const lifetime = between(300, 3_000)
    await delay(lifetime / 2)
    if (Math.random() < 0.5 && subscriber.topics.length > 0) subscriber.unsubscribe(pick(subscriber.topics))
    await delay(lifetime / 2)
    await subscriber.finish()
    if (subscriber.closedBy !== undefined) this.checker.fail(`${name} was closed by the server: ${subscriber.closedBy}`)
    subscriber.close()
  }

  private async churnTopic(): Promise<void> {
    const name = `churn-topic-${++this.counts.topicsCreated}`
    const created = await this.rest('POST', '/topics', { name })
    if (created.status === 201 || (created.repeated && created.status === 409)) this.churnTopics.push(name)
    const deletable = this.churnTopics.filter((topic) => !this.deleting.has(topic))
    if (deletable.length <= LOAD.liveChurnTopics) return
    // Publishers and new subscribers may still pick the topic while the delete is on its way: those get TOPIC_NOT_FOUND.
    // A delete slower than the churn interval must not be sent twice by the next round.
    const oldest = deletable[0] as string
    this.deleting.add(oldest)
    const deleted = await this.rest('DELETE', `/topics/${oldest}`)
    this.churnTopics.splice(this.churnTopics.indexOf(oldest), 1)
    this.deleting.delete(oldest)
    if (deleted.status !== 200 && !(deleted.repeated && deleted.status === 404)) this.checker.fail(`deleting ${oldest} answered ${deleted.status}`)
  }

  /** A reader that stops reading on the firehose: the server must drop it, which it sees once it reads again. */
  private async slowConsumer(): Promise<void> {
    const firehose = this.firehose
    if (!firehose) return
    // Misbehavers stay on a node that is never killed: a kill would close them as if judged.
    const slow = await open(this.target.nodes.survivor().wsUrl)
    const closed = new Promise<void>((resolve) => slow.once('close', () => resolve()))
    slow.send(JSON.stringify({ type: 'subscribe', topic: 'firehose' }))
    slow.pause()
    const ackedAtPause = firehose.acked
    await delay(LOAD.slowConsumerPauseMs)
    const backlog = (firehose.acked - ackedAtPause) * LOAD.firehosePayloadBytes
    slow.resume()
    if (await settlesWithin(closed, 15_000)) {
      this.counts.slowConsumers++
      this.counts.slowDropped++
    } else if (backlog < LOAD.slowConsumerBacklogBytes) {
      this.counts.slowNotJudged++
    } else {
      this.counts.slowConsumers++
      this.checker.fail(`a slow consumer was not dropped although ${backlog} bytes were published while it was paused`)
    }
    slow.terminate()
  }

  /** A client that reads but never answers pings: the heartbeat must terminate it within two intervals. */
  private async muteClient(): Promise<void> {
    const mute = await open(this.target.nodes.survivor().wsUrl, { autoPong: false })
    const closed = new Promise<void>((resolve) => mute.once('close', () => resolve()))
    mute.send(JSON.stringify({ type: 'subscribe', topic: pick(this.stableTopics) }))
    this.counts.muteClients++
    if (await settlesWithin(closed, 3 * this.target.heartbeatIntervalMs)) return void this.counts.muteTerminated++
    this.checker.fail('a client that never answers pings was not terminated')
    mute.terminate()
  }
}
