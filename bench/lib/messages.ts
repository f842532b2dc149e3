import type { DialectName } from './dialect.js'

/** Messages between the orchestrator and its client processes (over the fork IPC channel). */

/**
 * Where clients connect: one port per node of the target (one for a single
 * server). Connection i of a client process goes to `ports[i % ports.length]`,
 * so every process spreads its connections over the nodes.
 */
export type Target = { host: string; ports: number[]; dialect: DialectName; subscribersByTopic?: true }

/** The port connection `index` of a client process uses. */
export const portFor = (target: Target, index: number): number => target.ports[index % target.ports.length] as number

/** The port of every subscriber of `topic` when a target places subscribers by topic: a hash of the name picks it. */
export function portForTopic(target: Target, topic: string): number {
  let hash = 0
  for (let i = 0; i < topic.length; i++) hash = (hash * 31 + topic.charCodeAt(i)) >>> 0
  return target.ports[hash % target.ports.length] as number
}

export type SubscriberCommand =
  | { cmd: 'open'; target: Target; topics: string[]; concurrency: number; reportEveryMs: number }
  /** Start (or restart) recording latencies. */
  | { cmd: 'measure' }
  /** Report `done` once every connection has seen this many events of its topic. */
  | { cmd: 'expect'; sent: Record<string, number> }

export type SubscriberReport =
  | { type: 'ready'; connections: number }
  | { type: 'progress'; total: number; minByTopic: Record<string, number> }
  | { type: 'done'; total: number; latency: { pairs: number[]; max: number } }
  | { type: 'failed'; reason: string }

export type PublishPlan =
  | { mode: 'window'; window: number }
  | { mode: 'rate'; perSecond: number; maxInFlight: number }

export type PublisherCommand =
  | { cmd: 'open'; target: Target; topics: string[]; publishers: number; payloadBytes: number; plan: PublishPlan }
  | { cmd: 'go' }
  /** Start (or restart) recording publish → ack latencies; only rate mode records them. */
  | { cmd: 'measure' }
  | { cmd: 'progress'; minByTopic: Record<string, number> }
  | { cmd: 'stop' }

export type PublisherReport =
  | { type: 'ready' }
  | { type: 'stopped'; sent: Record<string, number>; behind: boolean; ackLatency: { pairs: number[]; max: number } }
  | { type: 'failed'; reason: string }

/** Sends a message to the parent; one sent as the parent hangs up is dropped, not thrown. */
export function sendToParent(message: object): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => {})
}

export const toParent = (message: SubscriberReport | PublisherReport): void => sendToParent(message)

/** Runs `tasks` with at most `limit` in flight. */
export async function inBatches<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++
      results[index] = await task(index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
  return results
}
