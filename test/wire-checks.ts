import assert from 'node:assert/strict'
import type { Frame } from './helpers.js'
import { Contract } from './spec.js'

/** Shape checks for what the server sends, shared by the fuzz, fault and soak runs. */

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
const ERROR_CODES = new Set(['BAD_REQUEST', 'TOPIC_NOT_FOUND', 'SLOW_CONSUMER', 'UNAUTHORIZED', 'INTERNAL'])

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const isPositiveInteger = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0

const optionalString = (value: unknown): boolean => value === undefined || typeof value === 'string'

/** Why `frame` is not a server message the contract allows, or undefined when it is one. */
function whatIsWrong(frame: Record<string, unknown>): string | undefined {
  if (typeof frame.ts !== 'string' || !ISO_UTC.test(frame.ts)) return 'ts is not ISO-8601 UTC with milliseconds'
  if (!optionalString(frame.request_id)) return 'request_id is not a string'
  switch (frame.type) {
    case 'ack':
      if (frame.status !== 'ok' || typeof frame.topic !== 'string') return 'ack lacks status ok or topic'
      // A subscribe ack's seq is the head, 0 before the first publish; a publish ack's is the event's.
      if (frame.seq !== undefined && !(Number.isSafeInteger(frame.seq) && (frame.seq as number) >= 0)) return 'ack seq is not an integer >= 0'
      if (frame.message_id !== undefined && !isPositiveInteger(frame.seq)) return 'publish ack seq is not a positive integer'
      if (!optionalString(frame.epoch)) return 'ack epoch is not a string'
      return optionalString(frame.message_id) ? undefined : 'ack message_id is not a string'
    case 'event': {
      const message = frame.message
      if (typeof frame.topic !== 'string' || !isPositiveInteger(frame.seq)) return 'event lacks topic or seq'
      return isObject(message) && typeof message.id === 'string' && 'payload' in message ? undefined : 'event message is malformed'
    }
    case 'error': {
      const error = frame.error
      if (!isObject(error) || typeof error.code !== 'string' || !ERROR_CODES.has(error.code)) return 'error code is unknown'
      return typeof error.message === 'string' && error.message.length > 0 ? undefined : 'error message is empty'
    }
    case 'pong':
      return undefined
    case 'info':
      return typeof frame.topic === 'string' && typeof frame.msg === 'string' ? undefined : 'info lacks topic or msg'
    default:
      return 'type is not one the server sends'
  }
}

/** Parses one text frame from the server and fails with the frame in the message when it is malformed. */
export function parseServerFrame(text: string): Frame {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    assert.fail(`server frame is not JSON: ${text.slice(0, 200)}`)
  }
  assert.ok(isObject(value), `server frame is not an object: ${text.slice(0, 200)}`)
  const problem = whatIsWrong(value)
  assert.equal(problem, undefined, `malformed server frame (${problem}): ${text.slice(0, 200)}`)
  return value as Frame
}

let contract: Contract | undefined

/** Checks an RFC 9457 problem document as the REST edge writes it, its code one that openapi.yaml lists. */
export function assertProblemDocument(status: number, contentType: string | undefined, text: string): void {
  assert.equal(contentType, 'application/problem+json', `status ${status} without a problem document: ${text.slice(0, 200)}`)
  const body: unknown = JSON.parse(text)
  assert.ok(isObject(body), `problem document is not an object: ${text.slice(0, 200)}`)
  assert.equal(body.status, status)
  contract ??= new Contract()
  contract.assertSchema('Problem', body)
}
