import type { IncomingMessage } from 'node:http'

/**
 * Closes the connection of a request answered before its body was read, without losing
 * the answer. Closing a socket while received bytes lie unread makes the kernel reset the
 * connection, and a client still uploading then gets EPIPE or ECONNRESET instead of the
 * answer. So, like nginx's lingering close, the rest of the body is read and dropped after
 * the answer, and the connection closes when the body ends. Bounds: `maxBytes` dropped
 * (then the connection is reset), and the request's own deadline (`requestTimeoutMs`),
 * which Node enforces on a request whose body has not all arrived.
 */
export function closeAfterDroppingBody(req: IncomingMessage, maxBytes: number): void {
  const socket = req.socket
  let dropped = 0
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length
    if (dropped > maxBytes) socket.destroy()
  })
  // The answer may still be queued: end() writes it before the FIN, then the socket goes.
  req.once('end', () => socket.end(() => socket.destroy()))
  // A client that goes away mid-body is what ends many of these; nothing to report.
  req.once('error', () => socket.destroy())
}
