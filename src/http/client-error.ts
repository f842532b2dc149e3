import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from '../log.js'

/** Which status a request the HTTP parser rejected gets, by Node's error code; anything else is a 400. */
const STATUS_OF: Record<string, { status: number; code: string; detail: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT', detail: 'the request was not completed in time' },
  HPE_HEADER_OVERFLOW: { status: 431, code: 'HEADERS_TOO_LARGE', detail: 'the request headers are too large' },
}
const MALFORMED = { status: 400, code: 'BAD_REQUEST', detail: 'the request is not valid HTTP/1.1' }

/**
 * Answers a request the HTTP parser rejected (an unknown method, a broken
 * header, a header or request timeout) with a problem document, as every other
 * error is answered, then drops the connection: after a parse error the rest of
 * the stream cannot be trusted. Node's default writes a bare status line instead.
 */
export function createClientErrorListener(log: Logger) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    log.debug('malformed request', { code: error.code, error: error.message })
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy()
    const { status, code, detail } = (error.code !== undefined && Object.hasOwn(STATUS_OF, error.code) ? STATUS_OF[error.code] : undefined) ?? MALFORMED
    const title = STATUS_CODES[status] ?? 'Error'
    const body = JSON.stringify({ type: 'about:blank', title, status, detail, code })
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
    socket.destroy()
  }
}
