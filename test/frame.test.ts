import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventFrame, FrameSlab, frameLength, frameText, textFrame } from '../src/frame.js'

/** Reads back what a client would: FIN/opcode, mask bit, payload length and payload. */
function parseServerFrame(frame: Buffer): { first: number; masked: boolean; length: number; payload: Buffer } {
  const second = frame[1] as number
  let length = second & 0x7f
  let offset = 2
  if (length === 126) {
    length = frame.readUInt16BE(2)
    offset = 4
  } else if (length === 127) {
    length = Number(frame.readBigUInt64BE(2))
    offset = 10
  }
  return { first: frame[0] as number, masked: (second & 0x80) !== 0, length, payload: frame.subarray(offset) }
}

test('a text frame carries its text whole at each length-encoding boundary', () => {
  for (const size of [0, 1, 125, 126, 127, 65_535, 65_536, 70_000]) {
    const text = 'a'.repeat(size)
    const parsed = parseServerFrame(textFrame(text))
    assert.equal(parsed.first, 0x81, `FIN + text opcode for ${size} bytes`)
    assert.equal(parsed.masked, false, `server frames are not masked (${size} bytes)`)
    assert.equal(parsed.length, size)
    assert.equal(parsed.payload.toString(), text, `payload of ${size} bytes`)
  }
})

test('a frame length counts UTF-8 bytes, not characters', () => {
  const text = '"é€😀"'.repeat(30)
  const parsed = parseServerFrame(textFrame(text))
  assert.equal(parsed.length, Buffer.byteLength(text))
  assert.equal(parsed.payload.toString(), text)
})

test('frameText gives back the text of a frame at every header size', () => {
  for (const size of [0, 125, 126, 65_535, 65_536]) {
    const text = 'é'.repeat(size)
    assert.equal(frameText(textFrame(text)), text, `${Buffer.byteLength(text)} bytes`)
  }
})

test('frames from a slab are whole text frames and stay intact as later frames are built', () => {
  const slab = new FrameSlab()
  const texts = [0, 1, 125, 126, 127, 300, 1_000, 5_000, 9_000, 65_535, 65_536, 70_000, 3, 124]
    .flatMap((size) => ['a'.repeat(size), 'é€😀'.repeat(Math.ceil(size / 4))])
  const frames = texts.map((text) => slab.frame(text))
  texts.forEach((text, i) => {
    const parsed = parseServerFrame(frames[i] as Buffer)
    assert.equal(parsed.first, 0x81, `FIN + text opcode, frame ${i}`)
    assert.equal(parsed.masked, false)
    assert.equal(parsed.length, Buffer.byteLength(text), `length of frame ${i}`)
    assert.equal(parsed.payload.toString(), text, `payload of frame ${i}`)
  })
})

test('an event read from a cluster becomes the frame of its text before the seq, the seq and its text after it', () => {
  const slab = new FrameSlab()
  const before = Buffer.from('{"type":"event","topic":"t.1","seq":')
  for (const [seq, size] of [[1, 0], [42, 90], [9_007_199_254_740_991, 100], [7, 125], [8, 200], [12, 9_000], [13, 70_000]] as const) {
    const after = `,"payload":"${'€'.repeat(size)}"}`
    // The text after the seq sits between other bytes, as in a channel message.
    const texts = Buffer.from(`xx${after}yy`)
    const text = `${before.toString()}${seq}${after}`
    for (const frame of [slab.eventRun(before, seq, texts, [2, texts.length - 2], 0), eventFrame(before, seq, Buffer.from(after))]) {
      const parsed = parseServerFrame(frame)
      assert.equal(parsed.first, 0x81)
      assert.equal(parsed.length, Buffer.byteLength(text), `length at seq ${seq}`)
      assert.equal(parsed.payload.toString(), text, `payload at seq ${seq}`)
    }
  }
})

/** Splits a run into its frames' texts, reading each frame's length from its header. */
function framesOf(run: Buffer): string[] {
  const texts: string[] = []
  for (let start = 0; start < run.length; start += frameLength(run, start)) texts.push(frameText(run.subarray(start, start + frameLength(run, start))))
  return texts
}

test('a run holds the frames of consecutive events back to back, from the event asked for', () => {
  const before = Buffer.from('{"type":"event","topic":"é","seq":')
  // Seqs 7..13 cross from one digit to two; sizes cross the 2- to 4-byte header boundary.
  const afters = [0, 80, 81, 82, 83, 200, 5].map((size) => `,"p":"${'x'.repeat(size)}"}`)
  const texts = Buffer.from(`ab${afters.join('')}`)
  const offsets = [2]
  for (const after of afters) offsets.push((offsets[offsets.length - 1] as number) + Buffer.byteLength(after))
  const slab = new FrameSlab()
  for (const from of [0, 1, 6]) {
    const run = slab.eventRun(before, 7, texts, offsets, from)
    assert.deepEqual(framesOf(run), afters.slice(from).map((after, i) => `${before.toString()}${7 + from + i}${after}`), `run from event ${from}`)
  }
})

test('a run too big for a slab gets exactly its own memory; a small one never sits in Node’s shared pool', () => {
  const before = Buffer.from('{"seq":')
  const texts = Buffer.from('y'.repeat(9_000))
  const big = new FrameSlab().eventRun(before, 1, texts, [0, 3_000, 6_000, 9_000], 0)
  assert.equal(big.buffer.byteLength, big.length)
  assert.equal(framesOf(big).length, 3)
  const pooled = textFrame('x'.repeat(200))
  const small = new FrameSlab().eventRun(before, 1, texts, [0, 200], 0)
  assert.notEqual(small.buffer, pooled.buffer)
  assert.ok(small.buffer.byteLength <= 16 * 1024)
})

test('frameLength reads a frame\'s whole length at every header size', () => {
  for (const size of [0, 125, 126, 65_535, 65_536, 70_000]) {
    const frame = textFrame('a'.repeat(size))
    assert.equal(frameLength(Buffer.concat([frame, Buffer.from('next')]), 0), frame.length, `${size} bytes`)
  }
})

test('a small frame from a slab holds a bounded slab of its own stream, never Node’s shared pool', () => {
  const one = new FrameSlab()
  const other = new FrameSlab()
  const pooled = textFrame('x'.repeat(200))
  for (let i = 0; i < 500; i++) {
    const a = one.frame('x'.repeat(200))
    const b = other.frame('y'.repeat(200))
    assert.notEqual(a.buffer, b.buffer, `two streams share memory at frame ${i}`)
    assert.notEqual(a.buffer, pooled.buffer, `a slab frame sits in the shared pool at frame ${i}`)
    assert.ok(a.buffer.byteLength <= 16 * 1024, `slab of ${a.buffer.byteLength} bytes`)
  }
})

test('a frame too big for a slab gets exactly its own memory', () => {
  const frame = new FrameSlab().frame('z'.repeat(20_000))
  assert.equal(frame.buffer.byteLength, frame.length)
})
