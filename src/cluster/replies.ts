/**
 * Reads the scripts' replies (Buffers, integers, arrays and nil, as Redis
 * sends them) into typed values; a reply of any other shape is a bug and throws.
 */

/** An event as the stream holds it: its seq and its text after the seq (the node knows the text before it). */
export type StoredEvent = { seq: number; afterSeq: Buffer }
export type TopicRead = { epoch: string; head: number; events: StoredEvent[]; subscribers: number; held: number }
/** `seq` is the first of the batch's seqs; `subscribers` is there when the publish asked for it. */
export type PublishReply = { epoch: string; seq: number; subscribers?: number }

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

/** A stream entry [`<seq>-0`, ['d', text after the seq]]. */
function storedEvent(value: unknown): StoredEvent {
  const [id, fields] = array(value, 'a stream entry')
  const seq = integer(buffer(id, 'an entry id').subarray(0, -2), 'an entry id')
  return { seq, afterSeq: buffer(array(fields, 'entry fields')[1], 'an event') }
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
  const reply: PublishReply = { epoch: buffer(epoch, 'the epoch').toString('latin1'), seq: integer(seq, 'the seq') }
  if (subscribers !== undefined) reply.subscribers = integer(subscribers, 'the subscriber count')
  return reply
}

export const textReply = (value: unknown): string | undefined =>
  value === null ? undefined : buffer(value, 'a status').toString('latin1')

/** Texts back to back: text i is bytes `offsets[i]` to `offsets[i + 1]` of `bytes`. */
export type TextRun = { bytes: Buffer; offsets: number[] }

/**
 * What arrives on a topic's channel: the events of one publish script, seqs
 * `first`, `first` + 1, … (each one's text after the seq), or the deletion.
 */
export type ChannelMessage =
  | { kind: 'events'; epoch: string; first: number; afterSeqs: TextRun }
  | { kind: 'deleted'; epoch: string }

const SPACE = 0x20
const COMMA = 0x2c
const ZERO = 0x30

/**
 * `<epoch> <first seq> <byte length>,<byte length>… <texts after the seq, back to back>`
 * or `<epoch> deleted`; undefined for anything else. The texts stay where
 * they are in the message: every node reads every event, so none is copied here.
 */
export function channelMessage(message: Buffer): ChannelMessage | undefined {
  const afterEpoch = message.indexOf(SPACE)
  if (afterEpoch < 1) return undefined
  const epoch = message.toString('latin1', 0, afterEpoch)
  const afterFirst = message.indexOf(SPACE, afterEpoch + 1)
  if (afterFirst === -1) {
    return message.toString('latin1', afterEpoch + 1) === 'deleted' ? { kind: 'deleted', epoch } : undefined
  }
  const first = Number(message.toString('latin1', afterEpoch + 1, afterFirst))
  const afterLengths = message.indexOf(SPACE, afterFirst + 1)
  if (!Number.isSafeInteger(first) || first < 1 || afterLengths === -1) return undefined
  const offsets = [afterLengths + 1]
  let length = 0
  let digits = 0
  for (let i = afterFirst + 1; i <= afterLengths; i++) {
    const byte = message[i] as number
    if (byte === COMMA || i === afterLengths) {
      // A length is 1 to 9 digits, not 0: no event is empty or as large as a gigabyte.
      if (digits === 0 || digits > 9 || length === 0) return undefined
      offsets.push((offsets[offsets.length - 1] as number) + length)
      length = 0
      digits = 0
    } else if (byte >= ZERO && byte <= ZERO + 9) {
      length = length * 10 + byte - ZERO
      digits++
    } else return undefined
  }
  return offsets[offsets.length - 1] === message.length ? { kind: 'events', epoch, first, afterSeqs: { bytes: message, offsets } } : undefined
}
