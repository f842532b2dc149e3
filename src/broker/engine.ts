import type { MessageBody, ReplayRequest, Result } from '../protocol.js'
import type { BrokerStats, Published, Replay, Subscriber, TopicCount, TopicInfo } from './broker.js'

/**
 * A result now or later. The in-memory broker answers synchronously, and the
 * edges await only when handed a promise, so its publish path keeps its speed.
 */
export type Maybe<T> = T | Promise<T>

/** A publish's answer; `subscribers` (the service-wide count) only when the publish asked for it. */
export type PublishAnswer = Omit<Published, 'subscribers'> & { subscribers?: number }

export const isPromise = <T>(value: Maybe<T>): value is Promise<T> => value instanceof Promise

/** Takes the answer of a publish an engine answers later (or the error that kept it from answering). */
export interface PublishReceiver {
  answered(result: Result<PublishAnswer>): void
  failed(error: unknown): void
}

/**
 * The one interface the edges (WebSocket connections, REST routes) call: the
 * in-memory Broker orders events itself; the cluster engine lets Redis order
 * them and fans them out locally.
 */
export interface Engine {
  readonly now: () => number
  createTopic(name: string): Maybe<Result<{ name: string }>>
  deleteTopic(name: string): Maybe<Result<object>>
  /**
   * `countSubscribers`: the answer must carry the subscriber count (the REST
   * answer shows it). The broker always has it; a cluster node reads it.
   */
  publish(name: string, message: MessageBody, countSubscribers?: boolean): Maybe<Result<PublishAnswer>>
  /**
   * Offered by an engine that answers publishes later (cluster mode): the
   * answer goes to `receiver`. A connection keeps hundreds of publishes in
   * flight, and each then holds one small object, not a chain of promises
   * and closures that the young generation's collections would have to copy.
   */
  publishTo?(name: string, message: MessageBody, receiver: PublishReceiver): void
  /** Adds the subscription and returns the replay; no gap and no duplicate between replay and live. */
  subscribe(name: string, subscriber: Subscriber, request: ReplayRequest): Maybe<Result<Replay>>
  unsubscribe(name: string, subscriber: Subscriber): Maybe<Result<{ name: string }>>
  /** The names of the topics a subscriber is subscribed to on this node. */
  subscribedTopics(subscriber: Subscriber): string[]
  /** Drops every subscription of a subscriber at once; returns the names of the topics it left. */
  unsubscribeAll(subscriber: Subscriber): string[]
  /** The events a subscribe with the same request would replay, with the topic's position. */
  history(name: string, request: ReplayRequest): Maybe<Result<Replay>>
  topicInfo(name: string): Maybe<Result<TopicInfo>>
  /** The service's topics, oldest first, with their subscriber counts. */
  listTopics(): Maybe<Result<TopicCount[]>>
  /** The service's topics with message and subscriber counts. */
  stats(): Maybe<Result<BrokerStats>>
  /** This node's own counters, for /metrics. */
  localStats(): BrokerStats
  /** Topics this node holds (in cluster mode: those it has subscribers for), for /health. */
  readonly topicCount: number
  /** Subscriptions on this node, for /health. */
  readonly subscriptions: number
  /** False while the engine cannot serve (cluster mode without Redis). */
  available(): boolean
  /** Set in cluster mode: names this node in /health and /metrics. */
  readonly nodeId: string | undefined
  close(): Promise<void>
}
