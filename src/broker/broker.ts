import { randomUUID } from 'node:crypto'
import { fail, ok, type MessageBody, type ReplayRequest, type Result } from '../protocol.js'
import type { Engine } from './engine.js'
import { epochSource } from './epoch.js'
import { Topic, type Published, type Replay, type Subscriber } from './topic.js'
import { TopicsHeld } from './topics-held.js'

export type { Published, Replay, Subscriber } from './topic.js'

export type BrokerOptions = {
  maxHistoryPerTopic: number
  maxTopics: number
  maxSubscriptionsPerConnection: number
  /** Milliseconds since the epoch; injected so tests control event times. */
  now?: () => number
  newId?: () => string
}

export type TopicCount = { name: string; subscribers: number }
export type TopicStats = TopicCount & { messages: number }
export type TopicInfo = { name: string; epoch: string; seq: number; firstSeq: number; subscribers: number }
export type BrokerStats = {
  topics: TopicStats[]
  subscriptions: number
  messagesPublished: number
  messagesDelivered: number
}

const notFound = (name: string) => fail('TOPIC_NOT_FOUND', `topic '${name}' does not exist`)

/**
 * Topics, subscriptions and fan-out. Synchronous and free of I/O: a client's
 * mistake comes back as a Failure, and the only way out is Subscriber.send.
 */
export class Broker implements Engine {
  readonly nodeId = undefined
  private readonly topics = new Map<string, Topic>()
  /** The reverse index, so dropping a connection touches only its own topics. */
  private readonly topicsOf = new TopicsHeld<Topic>()
  private subscriptionCount = 0
  private published = 0
  private delivered = 0
  readonly now: () => number
  private readonly newId: () => string
  private readonly newEpoch = epochSource()

  constructor(private readonly options: BrokerOptions) {
    this.now = options.now ?? Date.now
    this.newId = options.newId ?? randomUUID
  }

  createTopic(name: string): Result<{ name: string }> {
    if (this.topics.has(name)) return fail('TOPIC_EXISTS', `topic '${name}' already exists`)
    if (this.topics.size >= this.options.maxTopics) {
      return fail('LIMIT_EXCEEDED', `cannot create topic '${name}': the server holds its maximum of ${this.options.maxTopics} topics`)
    }
    this.topics.set(name, new Topic(name, this.newEpoch(), this.options.maxHistoryPerTopic))
    return ok({ name })
  }

  /** Removes the topic; its subscribers get a topic_deleted info and stay connected. */
  deleteTopic(name: string): Result<{ subscribers: number }> {
    const topic = this.topics.get(name)
    if (!topic) return notFound(name)
    this.topics.delete(name)
    topic.announceDeletion(this.now())
    for (const subscriber of topic.subscribers) this.topicsOf.remove(subscriber, topic)
    this.subscriptionCount -= topic.subscribers.size
    return ok({ subscribers: topic.subscribers.size })
  }

  publish(name: string, message: MessageBody): Result<Published> {
    const topic = this.topics.get(name)
    if (!topic) return notFound(name)
    const published = topic.publish(message.id ?? this.newId(), message.payload, this.now())
    if (!published.ok) return published
    this.published++
    this.delivered += published.value.subscribers
    return published
  }

  /**
   * Adds the subscription and returns the events to replay, in one synchronous
   * step: nothing can be published between the replay and the first live event.
   * A repeated subscribe changes nothing and replays nothing (every event up to
   * the head has reached this subscriber already), but answers a resume by the
   * same rules.
   */
  subscribe(name: string, subscriber: Subscriber, request: ReplayRequest): Result<Replay> {
    const topic = this.topics.get(name)
    if (!topic) return notFound(name)
    if (topic.subscribers.has(subscriber)) return ok({ ...topic.replay(request), events: [] })
    if (this.topicsOf.count(subscriber) >= this.options.maxSubscriptionsPerConnection) {
      return fail('LIMIT_EXCEEDED', `cannot subscribe to '${name}': a connection may hold at most ${this.options.maxSubscriptionsPerConnection} subscriptions`)
    }
    this.topicsOf.add(subscriber, topic)
    topic.subscribers.add(subscriber)
    this.subscriptionCount++
    return ok(topic.replay(request))
  }

  /** Unsubscribing from an existing topic one is not subscribed to succeeds. */
  unsubscribe(name: string, subscriber: Subscriber): Result<{ name: string }> {
    const topic = this.topics.get(name)
    if (!topic) return notFound(name)
    if (topic.subscribers.delete(subscriber)) {
      this.subscriptionCount--
      this.topicsOf.remove(subscriber, topic)
    }
    return ok({ name })
  }

  /** The names of the topics a subscriber is subscribed to. */
  subscribedTopics(subscriber: Subscriber): string[] {
    return this.topicsOf.list(subscriber).map((topic) => topic.name)
  }

  /** Drops every subscription of a subscriber; returns the names of the topics it left. */
  unsubscribeAll(subscriber: Subscriber): string[] {
    const own = this.topicsOf.take(subscriber)
    const names: string[] = []
    for (const topic of own) {
      topic.subscribers.delete(subscriber)
      names.push(topic.name)
    }
    this.subscriptionCount -= own.length
    return names
  }

  /** The events a subscribe with the same request would replay, oldest first. */
  history(name: string, request: ReplayRequest): Result<Replay> {
    const topic = this.topics.get(name)
    if (!topic) return notFound(name)
    return ok(topic.replay(request))
  }

  topicInfo(name: string): Result<TopicInfo> {
    const topic = this.topics.get(name)
    if (!topic) return notFound(name)
    const { epoch, head, firstSeq } = topic.position
    return ok({ name, epoch, seq: head, firstSeq, subscribers: topic.subscribers.size })
  }

  listTopics(): Result<TopicCount[]> {
    return ok([...this.topics.values()].map((t) => ({ name: t.name, subscribers: t.subscribers.size })))
  }

  get topicCount(): number {
    return this.topics.size
  }

  get subscriptions(): number {
    return this.subscriptionCount
  }

  stats(): Result<BrokerStats> {
    return ok(this.localStats())
  }

  localStats(): BrokerStats {
    return {
      topics: [...this.topics.values()].map((t) => ({ name: t.name, messages: t.messages, subscribers: t.subscribers.size })),
      subscriptions: this.subscriptionCount,
      messagesPublished: this.published,
      messagesDelivered: this.delivered,
    }
  }

  available(): boolean {
    return true
  }

  async close(): Promise<void> {}
}
