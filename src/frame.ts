/** FIN + text opcode: one complete, unfragmented text frame. */
const FIN_TEXT = 0x81

/** The frame header for a payload of `length` bytes: 2, 4 or 10 bytes long. */
const headerSize = (length: number): number => (length < 126 ? 2 : length < 65_536 ? 4 : 10)

/** Writes the header of an unmasked text frame carrying `length` bytes at `start` (RFC 6455 5.2). */
function writeHeader(frame: Buffer, start: number, length: number): void {
  frame[start] = FIN_TEXT
  if (length < 126) frame[start + 1] = length
  else if (length < 65_536) {
    frame[start + 1] = 126
    frame.writeUInt16BE(length, start + 2)
  } else {
    frame[start + 1] = 127
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), start + 2)
    frame.writeUInt32BE(length >>> 0, start + 6)
  }
}

/** Fills `frame`, sized for exactly this text, with the header and the text's `length` UTF-8 bytes. */
function frameIn(frame: Buffer, text: string, length: number): Buffer {
  writeHeader(frame, 0, length)
  frame.write(text, headerSize(length))
  return frame
}

/**
 * The WebSocket text frame a server sends for `text` (server frames are not
 * masked). The text is encoded straight behind the header, in one Buffer,
 * which can then be written to any number of sockets as it is. Small frames
 * share Node's Buffer pool: right for frames that are written and dropped.
 */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text)
  return frameIn(Buffer.allocUnsafe(headerSize(length) + length), text, length)
}

/**
 * A cluster keeps an event's text in two parts: the text before its seq,
 * the same for every event of a topic (see eventTextBeforeSeq) and ASCII as
 * topic names are, and the UTF-8 text after the seq, here bytes `start` to
 * `end` of `texts`. This writes the whole text to `target` at `at`.
 */
function writeEventText(target: Buffer, at: number, head: string, texts: Buffer, start: number, end: number): void {
  target.write(head, at, 'latin1')
  texts.copy(target, at + head.length, start, end)
}

/** The text frame of an event read from a cluster's Redis, from its parts. */
export function eventFrame(beforeSeq: string, seq: number, texts: Buffer, start: number, end: number): Buffer {
  const head = beforeSeq + seq
  const length = head.length + end - start
  const frame = Buffer.allocUnsafe(headerSize(length) + length)
  writeHeader(frame, 0, length)
  writeEventText(frame, headerSize(length), head, texts, start, end)
  return frame
}

/** The JSON text a frame built here carries, for answers that are not WebSocket frames. */
export function frameText(frame: Buffer): string {
  const code = (frame[1] as number) & 0x7f
  return frame.toString('utf8', code < 126 ? 2 : code === 126 ? 4 : 10)
}

/** A slab starts small, so a topic that publishes once holds little, and doubles up to the largest. */
const FIRST_SLAB_BYTES = 1024
const LARGEST_SLAB_BYTES = 16 * 1024
/** Room kept in front of each text: the longest header a frame from a slab can have. */
const SLAB_HEADER_ROOM = 4

/**
 * Builds the frames that are kept for a long time (a topic's history) in
 * slabs of their own. A small Buffer from Buffer.allocUnsafe is a view of an
 * 8 KiB pool shared by the whole process, and keeping it keeps the whole pool:
 * a quiet topic's history of 250-byte events, each published between events
 * of busier topics, held 8 KiB per event. One FrameSlab serves one stream of
 * frames that are dropped in the order they were built, so a slab is freed
 * with the last of its frames: beyond its frames, a stream holds only the
 * unused rest of its newest slab and the dropped start of its oldest.
 */
export class FrameSlab {
  private slab = Buffer.allocUnsafeSlow(0)
  private used = 0
  private nextSize = FIRST_SLAB_BYTES

  frame(text: string): Buffer {
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so most texts need not be measured first.
    const room = this.slab.length - this.used - SLAB_HEADER_ROOM
    if (room < text.length * 3) {
      const length = Buffer.byteLength(text)
      if (length > LARGEST_SLAB_BYTES / 2) return frameIn(Buffer.allocUnsafeSlow(headerSize(length) + length), text, length)
      if (room < length) this.refill(SLAB_HEADER_ROOM + length)
    }
    return this.close(this.slab.write(text, this.used + SLAB_HEADER_ROOM))
  }

  /** The frame of an event read from a cluster's Redis, from its parts (see eventFrame). */
  eventFrame(beforeSeq: string, seq: number, texts: Buffer, start: number, end: number): Buffer {
    const head = beforeSeq + seq
    const length = head.length + end - start
    if (length > LARGEST_SLAB_BYTES / 2) return eventFrame(beforeSeq, seq, texts, start, end)
    if (this.slab.length - this.used - SLAB_HEADER_ROOM < length) this.refill(SLAB_HEADER_ROOM + length)
    writeEventText(this.slab, this.used + SLAB_HEADER_ROOM, head, texts, start, end)
    return this.close(length)
  }

  /** Writes the header in front of the `length` bytes just written and hands out the frame. */
  private close(length: number): Buffer {
    const textStart = this.used + SLAB_HEADER_ROOM
    const start = textStart - headerSize(length)
    writeHeader(this.slab, start, length)
    this.used = textStart + length
    return this.slab.subarray(start, this.used)
  }

  private refill(atLeast: number): void {
    this.slab = Buffer.allocUnsafeSlow(Math.max(this.nextSize, atLeast))
    this.used = 0
    this.nextSize = Math.min(this.nextSize * 2, LARGEST_SLAB_BYTES)
  }
}
