import type { Position, ReplayRequest, ResumeReason } from '../protocol.js'

/**
 * Where a topic stands, as far as a replay is concerned: its incarnation, its
 * head H (the last seq assigned, 0 when none) and the oldest seq F still held
 * (H + 1 when nothing is held).
 */
export type TopicPosition = { epoch: string; head: number; firstSeq: number }

export type ResumeOutcome = { recovered: true } | { recovered: false; reason: ResumeReason }

/**
 * What a subscribe (or a history read) replays: the held events whose seq is
 * above `afterSeq`, up to the head; `resume` says how a `since_seq` went.
 */
export type ReplayPlan = { afterSeq: number; resume?: ResumeOutcome }

/**
 * Whether a client at `since` can be brought to the head with nothing
 * missing. Arithmetic on (E, S, F, H) only, never a search: a client may
 * resume from any seq it has seen, whatever the events held now.
 */
export function decideResume(since: Position, topic: TopicPosition): ResumeOutcome {
  if (since.epoch !== topic.epoch) return { recovered: false, reason: 'epoch_mismatch' }
  // Never wait for a seq that may come later: the client counts in another history.
  if (since.seq > topic.head) return { recovered: false, reason: 'seq_ahead' }
  if (since.seq < topic.firstSeq - 1) return { recovered: false, reason: 'history_truncated' }
  return { recovered: true }
}

/** The events after the last `lastN` ones before the head, never below what is held. */
const lastNStart = (lastN: number, topic: TopicPosition): number => Math.max(topic.head - lastN, topic.firstSeq - 1)

/**
 * The replay a request asks for: S+1..H when it resumes, else what `last_n`
 * asks for (the fallback), as a seq to replay after.
 */
export function planReplay(request: ReplayRequest, topic: TopicPosition): ReplayPlan {
  if (!request.since) return { afterSeq: lastNStart(request.lastN, topic) }
  const resume = decideResume(request.since, topic)
  return { afterSeq: resume.recovered ? request.since.seq : lastNStart(request.lastN, topic), resume }
}
