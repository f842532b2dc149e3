/** FIN + text opcode: one complete, unfragmented text frame. */
const FIN_TEXT = 0x81

/**
 * The WebSocket text frame a server sends for `payload` (RFC 6455 5.2: server
 * frames are not masked), header and payload in one Buffer, so it can be
 * written to any number of sockets as it is.
 */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10
  const frame = Buffer.allocUnsafe(header + length)
  frame[0] = FIN_TEXT
  if (header === 2) frame[1] = length
  else if (header === 4) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
    frame.writeUInt32BE(length >>> 0, 6)
  }
  payload.copy(frame, header)
  return frame
}

/**
 * Frames each payload once however many sockets it goes to: a fan-out hands
 * the same Buffer to every subscriber in a row, so remembering the last one
 * framed is enough, and nothing is allocated per subscriber.
 */
export class FrameCache {
  private payload: Buffer | undefined
  private frame: Buffer = Buffer.alloc(0)

  frameOf(payload: Buffer): Buffer {
    if (payload !== this.payload) {
      this.frame = textFrame(payload)
      this.payload = payload
    }
    return this.frame
  }
}
