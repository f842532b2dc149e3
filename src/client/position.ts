import type { Position, SubscribeAck } from './protocol.js'

/** What an event's seq means for a subscriber at `position`. */
export type Step = 'old' | 'next' | 'gap'

export const stepOf = (position: Position, seq: number): Step =>
  seq <= position.seq ? 'old' : seq === position.seq + 1 ? 'next' : 'gap'

/**
 * The replay after an ack ends at the head (the ack's seq), so the subscriber
 * stands just before its first replayed event: on a resume that is where it
 * was, after a fresh subscribe or a failed resume it skips what is not replayed.
 */
export const positionAfterAck = (ack: SubscribeAck): Position => ({ epoch: ack.epoch, seq: ack.seq - ack.replayed })

/** Why a resume failed, or undefined when it did not (or none was asked for). */
export const resetReasonOf = (resumed: boolean, ack: SubscribeAck): string | undefined =>
  !resumed || ack.recovered === true ? undefined : ack.reason ?? 'not_recovered'
