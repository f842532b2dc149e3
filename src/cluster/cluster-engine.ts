import { randomBytes, randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { BrokerStats, Replay, Subscriber, TopicCount, TopicInfo, TopicStats } from '../broker/broker.js'
import type { Engine, PublishAnswer, PublishReceiver } from '../broker/engine.js'
import type { TopicPosition } from '../broker/resume.js'
import { TopicsHeld } from '../broker/topics-held.js'
import { eventFrame } from '../frame.js'
import type { Logger } from '../log.js'
import { encodeInfo, eventTextAfterSeq, eventTextBeforeSeq, fail, ok, type MessageBody, type ReplayRequest, type Result } from '../protocol.js'
import { FollowedTopic, replayOf, type Ending } from './followed-topic.js'
import { topicKeys, topicListKeys } from './keys.js'
import { Outbox, type Batch, type Sent } from './outbox.js'
import { RedisLink, script } from './redis-link.js'
import { channelMessage, publishReply, readReply, ReplyError, textReply, type ChannelMessage, type PublishReply, type TextRun, type TopicRead } from './replies.js'
import { CREATE, DELETE, PUBLISH, READ } from './scripts.js'

export type ClusterOptions = {
  redisUrl: string
  redisPrefix: string
  maxHistoryPerTopic: number
  maxTopics: number
  maxSubscriptionsPerConnection: number
  heartbeatIntervalMs: number
  now?: () => number
  newId?: () => string
}

/** A publish in the outbox: its message id and who takes its answer. */
type PublishInFlight = { id: string; to: PublishReceiver }

const SCRIPTS = { publish: script(PUBLISH), read: script(READ), create: script(CREATE), remove: script(DELETE) }

/** Longest time between two checks of the followed topics' heads (and refreshes of this node's counts). */
const LONGEST_CHECK_INTERVAL_MS = 5_000
/** A node's subscriber counts outlive it by this many check intervals, then drop out. */
const COUNT_LIFETIME_CHECKS = 3
/** How long an event this node published (or a deletion) may take to come back before the node reads it from the stream. */
const OWN_EVENT_GRACE_MS = 500
/** Reads a catch-up may take before waiting for the next check: events may keep going missing. */
const CATCH_UP_ROUNDS = 5
/** How long Redis may take to be reached at start-up before the node starts as unavailable. */
const START_WAIT_MS = 2_000

const notFound = (name: string) => fail('TOPIC_NOT_FOUND', `topic '${name}' does not exist`)
const UNAVAILABLE = fail('UNAVAILABLE', 'the cluster\'s Redis cannot be reached; the request was not carried out (a publish may have been stored: see the docs)')

/**
 * Cluster mode: Redis orders every topic's events (one script per publish
 * assigns the seq, stores and publishes the event), and this node fans out
 * the events of the topics it has subscribers for, synchronously, as the
 * in-memory broker does. A node that cannot be sure its subscribers got every
 * event catches up from the stored history, or ends their subscriptions with
 * `resync_required`: never a silent gap.
 */
export class ClusterEngine implements Engine {
  readonly nodeId = `${hostname()}-${randomBytes(3).toString('hex')}`
  readonly now: () => number
  private readonly newId: () => string
  private readonly link: RedisLink
  private readonly followed = new Map<string, FollowedTopic>()
  private readonly byChannel = new Map<string, FollowedTopic>()
  private readonly topicsOf = new TopicsHeld<FollowedTopic>()
  private subscriptionCount = 0
  private published = 0
  private delivered = 0
  private readonly checkIntervalMs: number
  private readonly countLifetimeMs: number
  private readonly checkTimer: NodeJS.Timeout
  private graceTimer: NodeJS.Timeout | undefined
  private readonly awaited = new Set<FollowedTopic>()
  private readonly countsToWrite = new Set<FollowedTopic>()
  private readonly outbox = new Outbox<Result<PublishReply>, PublishInFlight>((batches) => this.sendBatches(batches), {
    settle: (publish, outcome, place) => this.answerPublish(publish, outcome, place),
    fail: (publish, error) => publish.to.failed(error),
  })

  constructor(private readonly options: ClusterOptions, private readonly log: Logger) {
    this.now = options.now ?? Date.now
    this.newId = options.newId ?? randomUUID
    this.checkIntervalMs = Math.min(options.heartbeatIntervalMs, LONGEST_CHECK_INTERVAL_MS)
    this.countLifetimeMs = COUNT_LIFETIME_CHECKS * this.checkIntervalMs + 1_000
    this.link = new RedisLink(options.redisUrl, Object.values(SCRIPTS), log)
    const { subscriptions, commands } = this.link
    subscriptions.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onChannelMessage(channel, message))
    subscriptions.on('close', () => this.holdBack())
    subscriptions.on('ready', () => void this.resubscribe())
    commands.on('ready', () => this.retryCatchUps())
    this.checkTimer = setInterval(() => this.check(), this.checkIntervalMs)
  }

  /** Waits (a bounded time) for Redis, so that a node that can reach it starts available. */
  async start(): Promise<void> {
    await this.link.ready(START_WAIT_MS)
    this.log.info('cluster node started', { node_id: this.nodeId, redis_available: this.link.available() })
  }

  available(): boolean {
    return this.link.available()
  }

  async createTopic(name: string): Promise<Result<{ name: string }>> {
    this.outbox.flush()
    const keys = topicKeys(this.options.redisPrefix, name)
    const list = topicListKeys(this.options.redisPrefix)
    const epoch = randomBytes(9).toString('base64url')
    const reply = await this.attempt(() => this.link.run(SCRIPTS.create, [list.list, list.created, keys.meta, keys.stream, keys.counts], [name, epoch, this.options.maxTopics]))
    if (!reply.ok) return reply
    switch (textReply(reply.value)) {
      case 'created': return ok({ name })
      case 'exists': return fail('TOPIC_EXISTS', `topic '${name}' already exists`)
      default: return fail('LIMIT_EXCEEDED', `cannot create topic '${name}': the cluster holds its maximum of ${this.options.maxTopics} topics`)
    }
  }

  /** Answers once this node's own subscribers of the topic have been told, after its last event. */
  async deleteTopic(name: string): Promise<Result<{ name: string }>> {
    // Publishes made before the deletion reach Redis before it.
    this.outbox.flush()
    const keys = topicKeys(this.options.redisPrefix, name)
    const reply = await this.attempt(() => this.link.run(SCRIPTS.remove, [topicListKeys(this.options.redisPrefix).list, keys.meta, keys.stream, keys.counts], [name, keys.channel]))
    if (!reply.ok) return reply
    const epoch = textReply(reply.value)
    if (epoch === undefined) return notFound(name)
    const topic = this.followed.get(name)
    if (topic?.epoch === epoch) await this.ownMessage(topic, Number.MAX_SAFE_INTEGER)
    return ok({ name })
  }

  /** Answers once the event has gone out to this node's own subscribers, so a subscribed publisher sees it before its ack. */
  publish(name: string, message: MessageBody, countSubscribers = false): Promise<Result<PublishAnswer>> {
    return new Promise((resolve, reject) => this.send(name, message, countSubscribers, { answered: resolve, failed: reject }))
  }

  publishTo(name: string, message: MessageBody, receiver: PublishReceiver): void {
    this.send(name, message, false, receiver)
  }

  private send(name: string, message: MessageBody, countSubscribers: boolean, to: PublishReceiver): void {
    const id = message.id ?? this.newId()
    const afterSeq = eventTextAfterSeq({ id, payload: message.payload, ts: this.now() })
    if (!afterSeq.ok) return to.answered(afterSeq)
    this.outbox.add(name, afterSeq.value, countSubscribers, { id, to })
  }

  private answerPublish({ id, to }: PublishInFlight, outcome: Result<PublishReply>, place: number): void {
    if (!outcome.ok) return to.answered(outcome)
    this.published++
    const { epoch, seq, subscribers } = outcome.value
    to.answered(ok(subscribers === undefined ? { id, seq: seq + place, epoch } : { id, seq: seq + place, epoch, subscribers }))
  }

  /**
   * Follows the topic (subscribing to its channel and reading its history)
   * when this is its first subscriber here, counts the subscriber in Redis,
   * then adds it and takes the replay from the ring in one synchronous step.
   */
  async subscribe(name: string, subscriber: Subscriber, request: ReplayRequest): Promise<Result<Replay>> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const followed = this.followed.get(name)
      // Repeated: every event up to the head has reached this subscriber already.
      if (followed?.subscribers.has(subscriber)) return ok({ ...followed.replay(request), events: [] })
      const max = this.options.maxSubscriptionsPerConnection
      if (this.topicsOf.count(subscriber) >= max) {
        return fail('LIMIT_EXCEEDED', `cannot subscribe to '${name}': a connection may hold at most ${max} subscriptions`)
      }
      const topic = followed ?? this.follow(name)
      const read = await this.join(topic)
      if (!read.ok) return read
      if (read.value === 'retry') continue
      topic.subscribers.add(subscriber)
      this.topicsOf.add(subscriber, topic)
      this.subscriptionCount++
      return ok(topic.replay(request))
    }
    return UNAVAILABLE
  }

  async unsubscribe(name: string, subscriber: Subscriber): Promise<Result<{ name: string }>> {
    const topic = this.followed.get(name)
    const had = topic !== undefined && topic.subscribers.delete(subscriber)
    if (had) {
      this.topicsOf.remove(subscriber, topic)
      this.subscriptionCount--
    }
    const count = topic === undefined ? '' : this.countOf(topic)
    const read = await this.attempt(() => this.read(topicKeys(this.options.redisPrefix, name), '', count))
    if (topic !== undefined) this.leaveIfIdle(topic)
    // A subscription this node held is gone whatever Redis says; its count is rewritten at the next check.
    if (had) return ok({ name })
    if (!read.ok) return read
    return read.value === undefined ? notFound(name) : ok({ name })
  }

  subscribedTopics(subscriber: Subscriber): string[] {
    return this.topicsOf.list(subscriber).map((topic) => topic.name)
  }

  unsubscribeAll(subscriber: Subscriber): string[] {
    const own = this.topicsOf.take(subscriber)
    for (const topic of own) {
      topic.subscribers.delete(subscriber)
      this.writeCountSoon(topic)
    }
    this.subscriptionCount -= own.length
    return own.map((topic) => topic.name)
  }

  async history(name: string, request: ReplayRequest): Promise<Result<Replay>> {
    const read = await this.attempt(() => this.read(topicKeys(this.options.redisPrefix, name), 1, ''))
    if (!read.ok) return read
    if (read.value === undefined) return notFound(name)
    const { events } = read.value
    const beforeSeq = Buffer.from(eventTextBeforeSeq(name))
    return ok(replayOf(request, positionOf(read.value), (after) =>
      events.filter((e) => e.seq > after).map((e) => eventFrame(beforeSeq, e.seq, e.afterSeq))))
  }

  async topicInfo(name: string): Promise<Result<TopicInfo>> {
    const read = await this.attempt(() => this.read(topicKeys(this.options.redisPrefix, name), '', ''))
    if (!read.ok) return read
    if (read.value === undefined) return notFound(name)
    const { epoch, head, firstSeq } = positionOf(read.value)
    return ok({ name, epoch, seq: head, firstSeq, subscribers: read.value.subscribers })
  }

  async listTopics(): Promise<Result<TopicCount[]>> {
    const topics = await this.topicStats()
    return topics.ok ? ok(topics.value.map(({ name, subscribers }) => ({ name, subscribers }))) : topics
  }

  /** The cluster's topics and subscriptions; the message counters are this node's. */
  async stats(): Promise<Result<BrokerStats>> {
    const topics = await this.topicStats()
    if (!topics.ok) return topics
    const subscriptions = topics.value.reduce((sum, topic) => sum + topic.subscribers, 0)
    return ok({ ...this.localStats(), topics: topics.value, subscriptions })
  }

  localStats(): BrokerStats {
    return {
      topics: [...this.followed.values()].map((t) => ({ name: t.name, messages: t.head, subscribers: t.subscribers.size })),
      subscriptions: this.subscriptionCount,
      messagesPublished: this.published,
      messagesDelivered: this.delivered,
    }
  }

  get topicCount(): number {
    return this.followed.size
  }

  get subscriptions(): number {
    return this.subscriptionCount
  }

  /** Withdraws this node's subscriber counts (best effort) and closes both connections. */
  async close(): Promise<void> {
    this.outbox.flush()
    clearInterval(this.checkTimer)
    clearTimeout(this.graceTimer)
    await Promise.all([...this.followed.values()].map((topic) => this.read(topic.keys, '', 0).catch(() => undefined)))
    await this.link.close()
  }

  // ---- following topics ----

  private follow(name: string): FollowedTopic {
    const topic = new FollowedTopic(name, topicKeys(this.options.redisPrefix, name), this.options.maxHistoryPerTopic)
    this.followed.set(name, topic)
    this.byChannel.set(topic.keys.channel, topic)
    void this.firstRead(topic)
    return topic
  }

  /** Subscribes to the channel first, so nothing published after the read can be missed. */
  private async firstRead(topic: FollowedTopic): Promise<void> {
    try {
      await this.link.subscriptions.subscribe(topic.keys.channel)
    } catch {
      return this.leave(topic, 'unavailable')
    }
    await this.catchUp(topic)
  }

  /**
   * Waits for the topic's first read, then counts one more subscriber here in
   * Redis, checking that the topic still is the incarnation this node follows.
   * 'retry' when it is not: the caller starts again with the new one.
   */
  private async join(topic: FollowedTopic): Promise<Result<'joined' | 'retry'>> {
    topic.joining++
    let read: Result<TopicRead | undefined>
    try {
      await topic.ready
      if (topic.ending === 'not_found') return notFound(topic.name)
      if (topic.ending === 'unavailable') return UNAVAILABLE
      if (topic.ending !== undefined) return ok('retry')
      read = await this.attempt(() => this.read(topic.keys, '', this.countOf(topic)))
    } finally {
      topic.joining--
    }
    if (!read.ok || read.value === undefined) {
      this.leaveIfIdle(topic)
      return read.ok ? notFound(topic.name) : read
    }
    if (topic.ending !== undefined) return ok('retry')
    if (read.value.epoch !== topic.epoch) {
      await this.catchUp(topic)
      return ok('retry')
    }
    return ok('joined')
  }

  private leaveIfIdle(topic: FollowedTopic): void {
    if (topic.ending === undefined && topic.subscribers.size === 0 && topic.joining === 0) this.leave(topic, 'idle')
  }

  /** Stops following the topic; its subscribers, if any, are told why and unsubscribed. */
  private leave(topic: FollowedTopic, ending: Ending): void {
    if (topic.ending !== undefined) return
    topic.end(ending)
    if (this.followed.get(topic.name) === topic) this.followed.delete(topic.name)
    this.byChannel.delete(topic.keys.channel)
    this.link.subscriptions.unsubscribe(topic.keys.channel).catch(() => {})
    if (topic.subscribers.size === 0) return
    const frame = encodeInfo(topic.name, ending, this.now())
    for (const subscriber of topic.subscribers) {
      subscriber.send(frame)
      this.topicsOf.remove(subscriber, topic)
    }
    this.subscriptionCount -= topic.subscribers.size
    topic.subscribers.clear()
    if (ending === 'resync_required') this.writeCountSoon(topic)
  }

  // ---- events from Redis ----

  private onChannelMessage(channel: Buffer, message: Buffer): void {
    const topic = this.byChannel.get(channel.toString('latin1'))
    if (topic === undefined || topic.ending !== undefined) return
    const parsed = channelMessage(message)
    if (parsed === undefined) return this.log.warn('unreadable message on a topic channel', { topic: topic.name })
    if (topic.pending !== undefined) {
      topic.pending.push(parsed)
      // Behind by more than the history holds: the catch-up could not fill it anyway.
      const behind = parsed.kind === 'events' && parsed.epoch === topic.epoch ? parsed.first + parsed.afterSeqs.offsets.length - 2 - topic.head : 0
      const most = 2 * this.options.maxHistoryPerTopic + 1_000
      if (behind > most || topic.pending.length > most) this.leave(topic, 'resync_required')
      return
    }
    if (parsed.kind === 'deleted') {
      if (parsed.epoch === topic.epoch) this.leave(topic, 'topic_deleted')
    } else if (parsed.epoch === topic.epoch && parsed.first <= topic.head + 1) {
      this.deliverNew(topic, parsed.first, parsed.afterSeqs)
    } else {
      // A gap, or events of another incarnation: the stored history decides.
      topic.pending = [parsed]
      void this.catchUp(topic)
    }
  }

  /**
   * Hands out the events after the topic's head, of a run of consecutive
   * events starting at `first`: their frames go to each subscriber in one send.
   */
  private deliverNew(topic: FollowedTopic, first: number, texts: TextRun): void {
    const from = topic.head + 1 - first
    const count = texts.offsets.length - 1 - from
    if (count <= 0) return
    const frames = topic.append(first, texts, from)
    for (const subscriber of topic.subscribers) subscriber.send(frames)
    this.delivered += count * topic.subscribers.size
  }

  /**
   * Brings the topic up to date from Redis: reads the head and the stored
   * events after this node's, delivers them, then the messages held back
   * meanwhile. One catch-up per topic at a time; a request during one makes
   * it go round again.
   */
  private catchUp(topic: FollowedTopic): Promise<void> {
    if (topic.catchingUp !== undefined) {
      topic.catchUpAgain = true
      return topic.catchingUp
    }
    topic.pending ??= []
    const run = this.catchUpRounds(topic).finally(() => {
      topic.catchingUp = undefined
      topic.markReady()
    })
    topic.catchingUp = run
    return run
  }

  private async catchUpRounds(topic: FollowedTopic): Promise<void> {
    for (let round = 0; round < CATCH_UP_ROUNDS && topic.ending === undefined; round++) {
      topic.catchUpAgain = false
      let read: TopicRead | undefined
      try {
        read = await this.read(topic.keys, topic.epoch === '' ? 1 : topic.head + 1, topic.epoch === '' ? '' : this.countOf(topic))
      } catch (error) {
        if (error instanceof ReplyError) {
          this.log.error('unreadable reply from redis', { error, topic: topic.name })
          return this.leave(topic, 'resync_required')
        }
        // Redis is away: a first read fails its subscribes; otherwise the topic waits, held back, for the next try.
        if (topic.epoch === '') this.leave(topic, 'unavailable')
        return
      }
      if (!this.applyRead(topic, read)) return
      if (this.drainPending(topic) && !topic.catchUpAgain) return
      topic.pending ??= []
    }
  }

  /** False when the read ended the topic. */
  private applyRead(topic: FollowedTopic, read: TopicRead | undefined): boolean {
    if (read === undefined) {
      // Gone from Redis (deleted, or lost with Redis's data): what this node still holds of it goes out first, up to a gap.
      if (topic.epoch !== '') this.drainPending(topic)
      this.leave(topic, topic.epoch === '' ? 'not_found' : 'topic_deleted')
      return false
    }
    if (topic.epoch === '') {
      topic.start(read.epoch, read.head, read.events)
      return true
    }
    if (read.epoch !== topic.epoch) {
      this.leave(topic, 'topic_deleted')
      return false
    }
    // Redis has fewer events than this node delivered (it lost acknowledged writes), or lacks some it missed.
    const first = read.events[0]
    if (read.head < topic.head || (read.head > topic.head && (first === undefined || first.seq > topic.head + 1))) {
      this.leave(topic, 'resync_required')
      return false
    }
    for (const event of read.events) {
      if (event.seq === topic.head + 1) this.deliverNew(topic, event.seq, { bytes: event.afterSeq, offsets: [0, event.afterSeq.length] })
    }
    return true
  }

  /** Delivers what was held back; false (with the rest still held) at a gap the next read must fill. */
  private drainPending(topic: FollowedTopic): boolean {
    const pending = topic.pending ?? []
    topic.pending = undefined
    for (let i = 0; i < pending.length; i++) {
      const message = pending[i] as ChannelMessage
      // Messages of other incarnations are older than the state just read: the read decided.
      if (message.epoch !== topic.epoch) continue
      if (message.kind === 'deleted') {
        this.leave(topic, 'topic_deleted')
        return true
      }
      if (message.first > topic.head + 1) {
        topic.pending = pending.slice(i)
        return false
      }
      this.deliverNew(topic, message.first, message.afterSeqs)
    }
    return true
  }

  /** The subscription connection dropped: whatever arrives from now on waits for a catch-up. */
  private holdBack(): void {
    for (const topic of this.followed.values()) topic.pending ??= []
  }

  /** The subscription connection is back: subscribe again to every followed topic, then catch each up. */
  private async resubscribe(): Promise<void> {
    const topics = [...this.followed.values()]
    if (topics.length === 0) return
    try {
      await this.link.subscriptions.subscribe(...topics.map((topic) => topic.keys.channel))
    } catch {
      return // Dropped again: the next 'ready' tries again.
    }
    this.log.info('redis subscriptions restored', { topics: topics.length })
    for (const topic of topics) if (topic.ending === undefined) void this.catchUp(topic)
  }

  private retryCatchUps(): void {
    for (const topic of this.followed.values()) {
      if (topic.pending !== undefined && topic.catchingUp === undefined && topic.epoch !== '') void this.catchUp(topic)
    }
  }

  /**
   * Every check interval: refreshes this node's subscriber counts and compares
   * each topic's head in Redis with this node's. A head seen at the previous
   * check and still not reached means events went missing on a quiet topic.
   */
  private check(): void {
    this.retryCatchUps()
    for (const topic of this.followed.values()) {
      if (topic.ending !== undefined || topic.epoch === '') continue
      this.read(topic.keys, '', this.countOf(topic)).then((read) => {
        if (topic.ending !== undefined || topic.pending !== undefined) return
        if (read === undefined || read.epoch !== topic.epoch || topic.headSeen > topic.head) return void this.catchUp(topic)
        topic.headSeen = read.head
      }, () => {})
    }
  }

  /**
   * Waits until this node has handed out its own event (or the deletion) that
   * Redis just confirmed; if it does not come back soon, reads it from the stream.
   */
  private async ownMessage(topic: FollowedTopic, seq: number): Promise<void> {
    const reached = topic.reached(seq, performance.now())
    if (topic.hasWaiters) {
      this.awaited.add(topic)
      this.graceTimer ??= setTimeout(() => this.repairLate(), OWN_EVENT_GRACE_MS)
    }
    await reached
  }

  private repairLate(): void {
    this.graceTimer = undefined
    const overdue = performance.now() - OWN_EVENT_GRACE_MS
    for (const topic of this.awaited) {
      if (!topic.hasWaiters) this.awaited.delete(topic)
      else if (topic.waitingSince(overdue)) void this.catchUp(topic)
    }
    if (this.awaited.size > 0) this.graceTimer = setTimeout(() => this.repairLate(), OWN_EVENT_GRACE_MS)
  }

  // ---- Redis calls ----

  /** This node's share of the topic's subscriber count, subscribes in flight included. */
  private countOf(topic: FollowedTopic): number {
    return topic.ending === undefined ? topic.subscribers.size + topic.joining : 0
  }

  /** Reads the topic's state and the held events from seq `from` on ('' for none), and sets this node's count ('' leaves it). */
  private async read(keys: FollowedTopic['keys'], from: number | '', count: number | ''): Promise<TopicRead | undefined> {
    const args = [from, this.nodeId, count, this.countLifetimeMs, this.options.maxHistoryPerTopic]
    const reply = await this.link.run(SCRIPTS.read, [keys.meta, keys.stream, keys.counts], args)
    return readReply(reply)
  }

  /** Sends the publish batches in one write; each outcome comes once this node has handed out the batch's events. */
  private sendBatches(batches: Batch[]): Sent<Result<PublishReply>> {
    const max = this.options.maxHistoryPerTopic
    const calls = batches.map((batch) => {
      const keys = topicKeys(this.options.redisPrefix, batch.topic)
      // The texts go as one argument (a Buffer, outside the JavaScript heap), their lengths as another.
      const args = [max, keys.channel, batch.countSubscribers ? 1 : 0, batch.lengths.length, batch.lengths.join(','), batch.texts]
      return { script: SCRIPTS.publish, keys: [keys.meta, keys.stream, keys.counts], args }
    })
    const replies = this.link.runAll(calls)
    const outcomes = replies.map((sent, i) => {
      const { topic, lengths } = batches[i] as Batch
      return this.stored(topic, lengths.length, sent)
    })
    return { outcomes, answered: Promise.allSettled(replies) }
  }

  private async stored(name: string, events: number, sent: Promise<unknown>): Promise<Result<PublishReply>> {
    const reply = await this.attempt(() => sent)
    if (!reply.ok) return reply
    const stored = publishReply(reply.value)
    if (stored === undefined) return notFound(name)
    const topic = this.followed.get(name)
    if (topic?.epoch === stored.epoch) await this.ownMessage(topic, stored.seq + events - 1)
    return ok(stored)
  }

  /** Batches count updates of one turn (a closing connection may leave many topics). */
  private writeCountSoon(topic: FollowedTopic): void {
    if (this.countsToWrite.size === 0) setImmediate(() => this.writeCounts())
    this.countsToWrite.add(topic)
  }

  private writeCounts(): void {
    for (const topic of this.countsToWrite) {
      this.leaveIfIdle(topic)
      this.read(topic.keys, '', this.countOf(topic)).catch(() => {})
    }
    this.countsToWrite.clear()
  }

  private async topicStats(): Promise<Result<TopicStats[]>> {
    const listed = await this.attempt(async () => {
      const names = await this.link.commands.zrange(topicListKeys(this.options.redisPrefix).list, 0, -1)
      const reads = await Promise.all(names.map((name) => this.read(topicKeys(this.options.redisPrefix, name), '', '')))
      return names.flatMap((name, i) => {
        const read = reads[i]
        return read === undefined ? [] : [{ name, messages: read.head, subscribers: read.subscribers }]
      })
    })
    return listed
  }

  /** Runs a call to Redis; a failure to reach it becomes UNAVAILABLE, a malformed reply stays a bug. */
  private async attempt<T>(call: () => Promise<T>): Promise<Result<T>> {
    try {
      return ok(await call())
    } catch (error) {
      if (error instanceof ReplyError) throw error
      this.log.warn('redis call failed', { error: error instanceof Error ? error.message : String(error) })
      return UNAVAILABLE
    }
  }
}

/** The stored history ends at the head, so its oldest event is arithmetic too. */
const positionOf = (read: TopicRead): TopicPosition => ({ epoch: read.epoch, head: read.head, firstSeq: read.head - read.held + 1 })

/** Starts a cluster node's engine; server.ts loads this module only when REDIS_URL is set. */
export async function startClusterEngine(options: ClusterOptions, log: Logger): Promise<ClusterEngine> {
  const engine = new ClusterEngine(options, log)
  await engine.start()
  return engine
}
