import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FrameCache, textFrame } from '../src/ws/frame.js'

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

test('a text frame carries its payload whole at each length-encoding boundary', () => {
  for (const size of [0, 1, 125, 126, 127, 65_535, 65_536, 70_000]) {
    const payload = Buffer.alloc(size, 'a')
    const parsed = parseServerFrame(textFrame(payload))
    assert.equal(parsed.first, 0x81, `FIN + text opcode for ${size} bytes`)
    assert.equal(parsed.masked, false, `server frames are not masked (${size} bytes)`)
    assert.equal(parsed.length, size)
    assert.ok(parsed.payload.equals(payload), `payload of ${size} bytes`)
  }
})

test('the frame cache frames a payload once however often it is asked', () => {
  const cache = new FrameCache()
  const event = Buffer.from('{"type":"event"}')
  const first = cache.frameOf(event)
  assert.equal(cache.frameOf(event), first, 'the same Buffer for the same payload')
  const other = cache.frameOf(Buffer.from('{"type":"event"}'))
  assert.notEqual(other, first, 'a different payload Buffer gets its own frame')
  assert.ok(other.equals(first), 'with the same bytes')
})
