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
 * The text frame of one event read from a cluster's Redis (see
 * FrameSlab.eventRun): `afterSeq` is its UTF-8 text after the seq.
 */
export function eventFrame(beforeSeq: Buffer, seq: number, afterSeq: Buffer): Buffer {
  const offsets = [0, afterSeq.length]
  const frame = Buffer.allocUnsafe(runLength(beforeSeq, seq, offsets, 0))
  writeRun(frame, 0, beforeSeq, seq, afterSeq, offsets, 0)
  return frame
}

/** The JSON text a frame built here carries, for answers that are not WebSocket frames. */
export function frameText(frame: Buffer): string {
  const code = (frame[1] as number) & 0x7f
  return frame.toString('utf8', code < 126 ? 2 : code === 126 ? 4 : 10)
}

/** The whole length, header included, of the frame built here that starts at `start` of `bytes`. */
export function frameLength(bytes: Buffer, start: number): number {
  const code = (bytes[start + 1] as number) & 0x7f
  if (code < 126) return 2 + code
  if (code === 126) return 4 + bytes.readUInt16BE(start + 2)
  return 10 + bytes.readUInt32BE(start + 2) * 2 ** 32 + bytes.readUInt32BE(start + 6)
}

const ZERO = 0x30

/** How many decimal digits `n` (a positive safe integer) has. */
function digitsOf(n: number): number {
  let digits = 1
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++
  return digits
}

/** Writes the `digits` decimal digits of `n` at `at`, without making a string. */
function writeDigits(target: Buffer, at: number, n: number, digits: number): void {
  let rest = n
  for (let i = at + digits - 1; i >= at; i--) {
    target[i] = ZERO + (rest % 10)
    rest = Math.floor(rest / 10)
  }
}

/** The bytes that the frames of a run of consecutive events take (see FrameSlab.eventRun). */
function runLength(beforeSeq: Buffer, first: number, offsets: readonly number[], from: number): number {
  let bytes = 0
  for (let i = from; i < offsets.length - 1; i++) {
    const length = beforeSeq.length + digitsOf(first + i) + (offsets[i + 1] as number) - (offsets[i] as number)
    bytes += headerSize(length) + length
  }
  return bytes
}

/** Writes the run's frames back to back into `target` from `at`. */
function writeRun(target: Buffer, at: number, beforeSeq: Buffer, first: number, texts: Buffer, offsets: readonly number[], from: number): void {
  let frameStart = at
  for (let i = from; i < offsets.length - 1; i++) {
    const seq = first + i
    const digits = digitsOf(seq)
    const start = offsets[i] as number
    const end = offsets[i + 1] as number
    const length = beforeSeq.length + digits + end - start
    const textStart = frameStart + headerSize(length)
    writeHeader(target, frameStart, length)
    beforeSeq.copy(target, textStart)
    writeDigits(target, textStart + beforeSeq.length, seq, digits)
    texts.copy(target, textStart + beforeSeq.length + digits, start, end)
    frameStart = textStart + length
  }
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

  /**
   * The frames of consecutive events read from a cluster's Redis, back to
   * back in one Buffer that every subscriber is handed as it is: event `i`
   * (from `from` on) has seq `first` + `i`, and its text after the seq is
   * bytes `offsets[i]` to `offsets[i + 1]` of `texts`. `beforeSeq` is the
   * UTF-8 text before the seq, the same for every event of a topic. Building
   * them in one pass makes no object per event.
   */
  eventRun(beforeSeq: Buffer, first: number, texts: Buffer, offsets: readonly number[], from: number): Buffer {
    const length = runLength(beforeSeq, first, offsets, from)
    if (length > LARGEST_SLAB_BYTES / 2) {
      const run = Buffer.allocUnsafeSlow(length)
      writeRun(run, 0, beforeSeq, first, texts, offsets, from)
      return run
    }
    if (this.slab.length - this.used < length) this.refill(length)
    const start = this.used
    writeRun(this.slab, start, beforeSeq, first, texts, offsets, from)
    this.used += length
    return this.slab.subarray(start, this.used)
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
