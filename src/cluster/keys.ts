/**
 * Where a cluster keeps its state in Redis. Every key and the channel of one
 * topic share the hash tag `{prefix:topic}`, so a script that touches one
 * topic touches one hash slot; the topic list has a tag of its own.
 */
export type TopicKeys = {
  /** Hash: `e` the epoch, `s` the last seq assigned. Exists exactly while the topic does. */
  meta: string
  /** Stream of the held events, entry id `<seq>-0`, field `d` the event's JSON text. */
  stream: string
  /** Hash: node id → `<subscribers>@<expiry ms>`, each node's share of the subscriber count. */
  counts: string
  /** Pub/sub channel: `<epoch> <seq> <event text>` per event, `<epoch> deleted` at the end. */
  channel: string
}

export function topicKeys(prefix: string, topic: string): TopicKeys {
  const tag = `{${prefix}:${topic}}`
  return { meta: `${tag}:meta`, stream: `${tag}:events`, counts: `${tag}:subscribers`, channel: `${tag}:channel` }
}

/** Sorted set of topic names, scored by creation order, and the counter that scores them. */
export const topicListKeys = (prefix: string): { list: string; created: string } =>
  ({ list: `{${prefix}}:topics`, created: `{${prefix}}:topics-created` })
