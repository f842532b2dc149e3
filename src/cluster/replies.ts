/**
 * Reads the scripts' replies (Buffers, integers, arrays and nil, as Redis
 * sends them) into typed values; a reply of any other shape is a bug and throws.
 */

export type StoredEvent = { seq: number; text: Buffer }
export type TopicRead = { epoch: string; head: number; events: StoredEvent[]; subscribers: number; held: number }
export type PublishReply = { epoch: string; seq: number; subscribers: number }

export class ReplyError extends Error {}

const buffer = (value: unknown, what: string): Buffer => {
  if (!Buffer.isBuffer(value)) throw new ReplyError(`unexpected Redis reply: ${what} is not a string`)
  return value
}

const integer = (value: unknown, what: string): number => {
  const n = typeof value === 'number' ? value : Number(buffer(value, what).toString('latin1'))
  if (!Number.isSafeInteger(n) || n < 0) throw new ReplyError(`unexpected Redis reply: ${what} is not a count`)
  return n
}

const array = (value: unknown, what: string): unknown[] => {
  if (!Array.isArray(value)) throw new ReplyError(`unexpected Redis reply: ${what} is not an array`)
  return value
}

/** A stream entry [`<seq>-0`, ['d', text]]. */
function storedEvent(value: unknown): StoredEvent {
  const [id, fields] = array(value, 'a stream entry')
  const seq = integer(buffer(id, 'an entry id').subarray(0, -2), 'an entry id')
  return { seq, text: buffer(array(fields, 'entry fields')[1], 'an event') }
}

export function readReply(value: unknown): TopicRead | undefined {
  if (value === null) return undefined
  const [epoch, head, events, subscribers, held] = array(value, 'a topic read')
  return {
    epoch: buffer(epoch, 'the epoch').toString('latin1'),
    head: integer(head, 'the head seq'),
    events: array(events, 'the events').map(storedEvent),
    subscribers: integer(subscribers, 'the subscriber count'),
    held: integer(held, 'the events held'),
  }
}

export function publishReply(value: unknown): PublishReply | undefined {
  if (value === null) return undefined
  const [epoch, seq, subscribers] = array(value, 'a publish reply')
  return {
    epoch: buffer(epoch, 'the epoch').toString('latin1'),
    seq: integer(seq, 'the seq'),
    subscribers: integer(subscribers, 'the subscriber count'),
  }
}

export const textReply = (value: unknown): string | undefined =>
  value === null ? undefined : buffer(value, 'a status').toString('latin1')

/** What arrives on a topic's channel. */
export type ChannelMessage =
  | { kind: 'event'; epoch: string; seq: number; text: Buffer }
  | { kind: 'deleted'; epoch: string }

const SPACE = 0x20

/** `<epoch> <seq> <text>` or `<epoch> deleted`; undefined for anything else. */
export function channelMessage(message: Buffer): ChannelMessage | undefined {
  const afterEpoch = message.indexOf(SPACE)
  if (afterEpoch < 1) return undefined
  const epoch = message.toString('latin1', 0, afterEpoch)
  const afterSeq = message.indexOf(SPACE, afterEpoch + 1)
  if (afterSeq === -1) {
    return message.toString('latin1', afterEpoch + 1) === 'deleted' ? { kind: 'deleted', epoch } : undefined
  }
  const seq = Number(message.toString('latin1', afterEpoch + 1, afterSeq))
  if (!Number.isSafeInteger(seq) || seq < 1) return undefined
  return { kind: 'event', epoch, seq, text: message.subarray(afterSeq + 1) }
}
