/** FIN + text opcode: one complete, unfragmented text frame. */
const FIN_TEXT = 0x81

/**
 * The WebSocket text frame a server sends for `text` (RFC 6455 5.2: server
 * frames are not masked). The text is encoded straight behind the header, in
 * one Buffer, which can then be written to any number of sockets as it is.
 */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text)
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
  frame.write(text, header)
  return frame
}

/** The JSON text a frame built by `textFrame` carries, for answers that are not WebSocket frames. */
export function frameText(frame: Buffer): string {
  const code = (frame[1] as number) & 0x7f
  const header = code < 126 ? 2 : code === 126 ? 4 : 10
  return frame.toString('utf8', header)
}
