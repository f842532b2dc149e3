/**
 * The server's error codes, plus the client's own: TIMEOUT (no answer in time),
 * DISCONNECTED (the connection dropped before the answer: a publish may or may
 * not have happened), CLOSED (client.close() was called), UNSUPPORTED (the
 * server's answer lacks the fields this client needs).
 */
export type ErrorCode =
  | 'BAD_REQUEST' | 'TOPIC_NOT_FOUND' | 'SLOW_CONSUMER' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'TOKEN_EXPIRED' | 'UNAVAILABLE' | 'INTERNAL'
  | 'TIMEOUT' | 'DISCONNECTED' | 'CLOSED' | 'UNSUPPORTED'
  | (string & {})

export class PubSubError extends Error {
  override readonly name = 'PubSubError'

  constructor(readonly code: ErrorCode, message: string) {
    super(message)
  }
}
