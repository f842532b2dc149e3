import { randomBytes } from 'node:crypto'
import { connect as connectTcp, type Socket } from 'node:net'
import type { TestContext } from 'node:test'
import { within } from './helpers.js'

/** Plain TCP clients for the fault tests: bytes exactly as written, no HTTP or WebSocket library in between. */

/** Opens a TCP connection to 127.0.0.1:port; destroyed after the test. */
export async function openSocket(t: TestContext, port: number): Promise<Socket> {
  const socket = connectTcp(port, '127.0.0.1')
  socket.on('error', () => {}) // resets are what some tests are about; the close event tells the rest
  t.after(() => socket.destroy())
  await within(new Promise((resolve) => socket.once('connect', resolve)), `a TCP connection to port ${port}`)
  return socket
}

/** Everything the server sends until it closes the connection. */
export function readUntilClosed(socket: Socket, what: string, ms?: number): Promise<string> {
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  return within(new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1')))), what, ms)
}

export type RawResponse = { status: number; headers: Map<string, string>; body: string }

export function parseResponse(text: string): RawResponse {
  const [head = '', body = ''] = text.split('\r\n\r\n', 2)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers = new Map(lines.map((line) => {
    const colon = line.indexOf(':')
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as const
  }))
  return { status: Number(statusLine.split(' ')[1]), headers, body }
}

/** The request line and headers of a WebSocket upgrade, to /ws unless another target is given. */
export const upgradeRequest = (port: number, target = '/ws'): string =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`

/** Everything the server sends on a raw socket up to and including the first `text`; bounded by `what`'s wait. */
export function readUntil(socket: Socket, text: string, what = `${text} on a raw socket`): Promise<string> {
  let seen = ''
  return within(new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('latin1')
      if (!seen.includes(text)) return
      socket.off('data', onData)
      resolve(seen)
    }
    socket.on('data', onData)
  }), what)
}

/** Completes a WebSocket handshake by hand and returns the socket, ready for raw frames. */
export async function openRawWebSocket(t: TestContext, port: number): Promise<Socket> {
  const socket = await openSocket(t, port)
  socket.write(upgradeRequest(port))
  const head = await readUntil(socket, '\r\n\r\n', 'the 101 Switching Protocols response')
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${head}`)
  return socket
}

/** A masked client text frame (RFC 6455 5.2), as a browser would send it. */
export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text)
  const length = payload.length
  const header = length < 126 ? Buffer.from([0x81, 0x80 | length]) : length < 65_536 ? Buffer.from([0x81, 0x80 | 126, length >> 8, length & 0xff]) : undefined
  if (!header) throw new Error('frames over 64 KiB are not needed by these tests')
  const mask = randomBytes(4)
  const masked = Buffer.alloc(length)
  for (let i = 0; i < length; i++) masked[i] = (payload[i] as number) ^ (mask[i % 4] as number)
  return Buffer.concat([header, mask, masked])
}

export type RawFrame = { opcode: number; payload: Buffer }

/** Splits the unmasked frames the server sends out of everything `socket` delivers from now on. */
export function collectFrames(socket: Socket): { frames: RawFrame[]; ended: Promise<void> } {
  const frames: RawFrame[] = []
  let pending = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk])
    for (;;) {
      if (pending.length < 2) return
      const short = (pending[1] as number) & 0x7f
      const headerLength = short === 126 ? 4 : short === 127 ? 10 : 2
      if (pending.length < headerLength) return
      const length = short === 126 ? pending.readUInt16BE(2) : short === 127 ? Number(pending.readBigUInt64BE(2)) : short
      if (pending.length < headerLength + length) return
      frames.push({ opcode: (pending[0] as number) & 0x0f, payload: pending.subarray(headerLength, headerLength + length) })
      pending = pending.subarray(headerLength + length)
    }
  })
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return { frames, ended }
}

export type Upload = { text: string; error: string | undefined }

/**
 * Writes all of `bytes` in pieces of `pieceBytes`, each once the last was taken, as an
 * HTTP client's send loop does, and only then reads what the server sent until it closes:
 * a client that uploads before it looks at the answer. A write that fails loses the answer,
 * as it does for such a client (`text` is then ''). `error` is the socket's error code, if any.
 */
export function writeAllThenRead(socket: Socket, bytes: string, what: string, pieceBytes = 16_384): Promise<Upload> {
  const data = Buffer.from(bytes, 'latin1')
  let error: string | undefined
  socket.on('error', (e: Error & { code?: string }) => (error = e.code))
  return within(new Promise((resolve) => {
    const writeFrom = (offset: number): void => {
      if (offset >= data.length) {
        const chunks: Buffer[] = []
        socket.on('data', (chunk: Buffer) => chunks.push(chunk))
        socket.once('close', () => resolve({ text: Buffer.concat(chunks).toString('latin1'), error }))
        return
      }
      socket.write(data.subarray(offset, offset + pieceBytes), (failed) => {
        if (failed || socket.destroyed) return resolve({ text: '', error: error ?? 'write failed' })
        // A turn of the event loop per piece, as a network would take: a server in this process gets to answer mid-upload.
        setImmediate(writeFrom, offset + pieceBytes)
      })
    }
    writeFrom(0)
  }), what)
}
