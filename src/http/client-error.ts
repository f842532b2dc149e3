import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from '../log.js'

type Answer = { status: number; code: string; detail: string }

/** What a request the HTTP parser rejected is answered, by Node's error code (the statuses Node's default uses). */
const ANSWERS = new Map<string, Answer>([
  ['ERR_HTTP_REQUEST_TIMEOUT', { status: 408, code: 'REQUEST_TIMEOUT', detail: 'the request was not completed in time' }],
  ['HPE_HEADER_OVERFLOW', { status: 431, code: 'HEADERS_TOO_LARGE', detail: 'the request headers are too large' }],
  ['HPE_CHUNK_EXTENSIONS_OVERFLOW', { status: 413, code: 'PAYLOAD_TOO_LARGE', detail: 'the chunk extensions are too large' }],
])
const MALFORMED: Answer = { status: 400, code: 'BAD_REQUEST', detail: 'the request is not valid HTTP/1.1' }

/**
 * Answers a request the HTTP parser rejected (an unknown method, a broken
 * header, a header or request timeout) with a problem document, as every other
 * error is answered, then drops the connection: after a parse error the rest of
 * the stream cannot be trusted. Node's default writes a bare status line instead.
 */
export function createClientErrorListener(log: Logger) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    log.debug('client error', { code: error.code, error: error.message })
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy()
    const { status, code, detail } = ANSWERS.get(error.code ?? '') ?? MALFORMED
    const title = STATUS_CODES[status] ?? 'Error'
    const body = JSON.stringify({ type: 'about:blank', title, status, detail, code })
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
    socket.destroy()
  }
}
