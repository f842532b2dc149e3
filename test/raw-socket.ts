import { randomBytes } from 'node:crypto'
import { connect as tcpConnect, type Socket } from 'node:net'
import type { TestContext } from 'node:test'
import { within } from './helpers.js'

/** A client-to-server text frame, masked as RFC 6455 requires. */
export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text)
  const mask = randomBytes(4)
  const length = payload.length
  if (length >= 65_536) throw new RangeError('test frames stay under 64 KiB')
  const header = length < 126
    ? Buffer.from([0x81, 0x80 | length])
    : Buffer.from([0x81, 0x80 | 126, length >> 8, length & 0xff])
  const masked = Buffer.alloc(length)
  for (let i = 0; i < length; i++) masked[i] = (payload[i] as number) ^ (mask[i % 4] as number)
  return Buffer.concat([header, mask, masked])
}

/**
 * A WebSocket client at the TCP level, for clients no library would be: ones
 * that stop reading or ignore a close frame. Resolves once the 101 arrived.
 */
export async function rawWebSocket(t: TestContext, port: number, path = '/ws'): Promise<Socket> {
  const socket = tcpConnect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  socket.on('error', () => undefined)
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  )
  await within(new Promise<void>((resolve, reject) => {
    let head = ''
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      if (head.startsWith('HTTP/1.1 101')) resolve()
      else reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`))
    }
    socket.on('data', onData)
  }), 'the 101 Switching Protocols answer')
  return socket
}

export type RawFrame = { opcode: number; payload: Buffer }

/** Splits unmasked server frames (payloads under 64 KiB or 64-bit lengths) out of everything `socket` delivers. */
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
