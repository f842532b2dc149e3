import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import type { Socket } from 'node:net'

/** Called with the payload of each text frame; the Buffer is only valid during the call. */
export type TextHandler = (frame: Buffer) => void

const OP_TEXT = 0x1
const OP_CLOSE = 0x8
const OP_PING = 0x9
const OP_PONG = 0xa

/**
 * A deliberately small WebSocket client: text frames only, no fragmentation,
 * no extensions. Every target is driven by this same client, so the load
 * generator spends the same few instructions per delivery whichever server it
 * measures, and as few as possible of the cores it shares with that server.
 */
export class RawClient {
  private leftover: Buffer | undefined
  private closed = false

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    private readonly onText: TextHandler,
    private readonly onClose: (reason: string) => void,
  ) {
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('error', (error) => this.end(`socket error: ${error.message}`))
    socket.on('close', () => this.end('socket closed'))
    if (head.length > 0) this.receive(head)
  }

  sendText(text: string): void {
    if (this.closed) return
    this.socket.write(maskedFrame(OP_TEXT, Buffer.from(text)))
  }

  close(): void {
    this.closed = true
    this.socket.destroy()
  }

  private end(reason: string): void {
    if (this.closed) return
    this.closed = true
    this.onClose(reason)
  }

  private receive(chunk: Buffer): void {
    const buf = this.leftover ? Buffer.concat([this.leftover, chunk]) : chunk
    this.leftover = undefined
    let at = 0
    while (buf.length - at >= 2) {
      const b0 = buf[at] as number
      const b1 = buf[at + 1] as number
      if (b1 & 0x80) return this.fail('the server sent a masked frame')
      if (!(b0 & 0x80)) return this.fail('the server sent a fragmented frame')
      let length = b1 & 0x7f
      let offset = at + 2
      if (length === 126) {
        if (buf.length - at < 4) break
        length = buf.readUInt16BE(at + 2)
        offset = at + 4
      } else if (length === 127) {
        if (buf.length - at < 10) break
        length = buf.readUInt32BE(at + 6)
        offset = at + 10
      }
      if (buf.length < offset + length) break
      const payload = buf.subarray(offset, offset + length)
      at = offset + length
      this.handle(b0 & 0x0f, payload)
      if (this.closed) return
    }
    if (at < buf.length) this.leftover = at === 0 ? buf : buf.subarray(at)
  }

  private handle(opcode: number, payload: Buffer): void {
    if (opcode === OP_TEXT) return this.onText(payload)
    if (opcode === OP_PING) return void this.socket.write(maskedFrame(OP_PONG, Buffer.from(payload)))
    if (opcode === OP_PONG) return
    if (opcode === OP_CLOSE) return this.end(`close frame ${payload.length >= 2 ? payload.readUInt16BE(0) : ''} ${payload.subarray(2).toString()}`)
    this.fail(`unexpected opcode ${opcode}`)
  }

  private fail(reason: string): void {
    this.end(reason)
    this.socket.destroy()
  }
}

function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const extended = payload.length < 126 ? 0 : payload.length < 65_536 ? 2 : 8
  const header = 2 + extended + 4
  const frame = Buffer.allocUnsafe(header + payload.length)
  frame[0] = 0x80 | opcode
  if (extended === 0) frame[1] = 0x80 | payload.length
  else if (extended === 2) {
    frame[1] = 0x80 | 126
    frame.writeUInt16BE(payload.length, 2)
  } else {
    frame[1] = 0x80 | 127
    frame.writeUInt32BE(0, 2)
    frame.writeUInt32BE(payload.length, 6)
  }
  const mask = randomBytes(4)
  mask.copy(frame, header - 4)
  for (let i = 0; i < payload.length; i++) frame[header + i] = (payload[i] as number) ^ (mask[i & 3] as number)
  return frame
}

/** Opens a WebSocket to ws://host:port/path and resolves once the handshake is done. */
export function openRawClient(
  host: string,
  port: number,
  path: string,
  onText: TextHandler,
  onClose: (reason: string) => void,
  timeoutMs = 10_000,
): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const req = request({
      host,
      port,
      path,
      agent: false,
      timeout: timeoutMs,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      },
    })
    req.on('upgrade', (res, socket, head) => {
      if (res.statusCode !== 101) return reject(new Error(`handshake answered ${res.statusCode}`))
      socket.setTimeout(0)
      resolve(new RawClient(socket, head, onText, onClose))
    })
    req.on('response', (res) => reject(new Error(`handshake answered ${res.statusCode} instead of 101`)))
    req.on('timeout', () => req.destroy(new Error(`handshake took over ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}
