import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'

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
  private corked = false

  constructor(
    private readonly socket: Socket,
    private readonly onText: TextHandler,
    private readonly onClose: (reason: string) => void,
  ) {
    socket.on('error', (error) => this.end(`socket error: ${error.message}`))
    socket.on('close', () => this.end('socket closed'))
  }

  /**
   * Frames sent in one callback (a publisher answering a read full of acks)
   * leave in one write once it returns, not one system call each.
   */
  sendText(text: string): void {
    if (this.closed) return
    if (!this.corked) {
      this.corked = true
      this.socket.cork()
      process.nextTick(this.uncork)
    }
    this.socket.write(maskedFrame(OP_TEXT, text))
  }

  private readonly uncork = (): void => {
    this.corked = false
    this.socket.uncork()
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

  /** `chunk` may be the process's shared read buffer: nothing keeps it past this call. */
  receive(chunk: Buffer): void {
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
    if (at < buf.length) this.leftover = Buffer.from(buf.subarray(at))
  }

  private handle(opcode: number, payload: Buffer): void {
    if (opcode === OP_TEXT) return this.onText(payload)
    if (opcode === OP_PING) return void this.socket.write(maskedFrame(OP_PONG, payload))
    if (opcode === OP_PONG) return
    if (opcode === OP_CLOSE) return this.end(`close frame ${payload.length >= 2 ? payload.readUInt16BE(0) : ''} ${payload.subarray(2).toString()}`)
    this.fail(`unexpected opcode ${opcode}`)
  }

  private fail(reason: string): void {
    this.end(reason)
    this.socket.destroy()
  }
}

/** A client frame: the payload is written straight into it and masked in place. */
function maskedFrame(opcode: number, payload: string | Buffer): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  const extended = length < 126 ? 0 : length < 65_536 ? 2 : 8
  const header = 2 + extended + 4
  const frame = Buffer.allocUnsafe(header + length)
  frame[0] = 0x80 | opcode
  if (extended === 0) frame[1] = 0x80 | length
  else if (extended === 2) {
    frame[1] = 0x80 | 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 0x80 | 127
    frame.writeUInt32BE(0, 2)
    frame.writeUInt32BE(length, 6)
  }
  const mask = nextMask()
  frame.writeInt32BE(mask, header - 4)
  if (typeof payload === 'string') frame.write(payload, header)
  else payload.copy(frame, header)
  maskInPlace(frame, header, [mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff])
  return frame
}

/** XORs `frame` from `start` with the key's bytes in turn, four at a time while it can. */
function maskInPlace(frame: Buffer, start: number, key: [number, number, number, number]): void {
  const [k0, k1, k2, k3] = key
  let i = start
  for (; i + 4 <= frame.length; i += 4) {
    frame[i] = (frame[i] as number) ^ k0
    frame[i + 1] = (frame[i + 1] as number) ^ k1
    frame[i + 2] = (frame[i + 2] as number) ^ k2
    frame[i + 3] = (frame[i + 3] as number) ^ k3
  }
  for (let k = 0; i < frame.length; i++, k++) frame[i] = (frame[i] as number) ^ (key[k] as number)
}

/**
 * A fresh masking key per frame from xorshift32. Masking only has to keep a
 * client's bytes unpredictable to intermediaries; a system random number per
 * frame cost the publisher process as much CPU as its write calls.
 */
let maskState = (Date.now() ^ (process.pid << 16)) | 1
function nextMask(): number {
  maskState ^= maskState << 13
  maskState ^= maskState >>> 17
  maskState ^= maskState << 5
  return maskState
}

/**
 * Every socket of the process reads into this one buffer (net's `onread`), and
 * each read is parsed before the next: no Buffer and no stream event per read,
 * so the generator takes less of the cores it shares with the server.
 */
const readBuffer = Buffer.allocUnsafe(256 * 1024)
const HEADERS_END = Buffer.from('\r\n\r\n')
const MAX_RESPONSE_HEAD = 16 * 1024

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
    let head = Buffer.alloc(0)
    let client: RawClient | undefined
    const fail = (reason: string): void => {
      clearTimeout(timer)
      socket.destroy()
      reject(new Error(reason))
    }
    /** Before the upgrade, collects the response head; after it, hands frames to the client. */
    const onRead = (length: number): boolean => {
      const chunk = readBuffer.subarray(0, length)
      if (client) client.receive(chunk)
      else readHead(chunk)
      return true
    }
    const readHead = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf(HEADERS_END)
      if (end < 0) {
        if (head.length > MAX_RESPONSE_HEAD) fail('the handshake response head is too long')
        return
      }
      const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1')
      if (!/^HTTP\/1\.1 101 /.test(status)) return fail(`handshake answered ${status}`)
      clearTimeout(timer)
      client = new RawClient(socket, onText, onClose)
      resolve(client)
      const rest = head.subarray(end + HEADERS_END.length)
      if (rest.length > 0) client.receive(rest)
    }
    const socket = connect({ host, port, noDelay: true, onread: { buffer: readBuffer, callback: onRead } })
    const timer = setTimeout(() => fail(`handshake took over ${timeoutMs} ms`), timeoutMs)
    socket.once('error', (error) => { if (!client) fail(error.message) })
    socket.once('close', () => { if (!client) fail('closed during the handshake') })
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
    )
  })
}
