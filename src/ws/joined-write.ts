import type { Duplex } from 'node:stream'

/** The scratch Buffer's size; a turn that holds more for one socket gets a Buffer of its own. */
const SCRATCH_BYTES = 64 * 1024

let scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES)

/**
 * Writes `frames` (`bytes` long in all) to `socket` in one write. A fresh
 * Buffer per write cost the server more than the copying itself, so the
 * frames are copied into one scratch Buffer that all sockets share. It is
 * safe to reuse once the kernel has taken all of it, as it nearly always
 * does on a socket with nothing queued. When the socket keeps part of it
 * instead, that scratch is left to the socket and the next write gets a new
 * one, so a backlogged socket holds at most one scratch beyond its queue.
 */
export function writeJoined(socket: Duplex, frames: readonly Buffer[], bytes: number): void {
  if (frames.length === 1) {
    socket.write(frames[0] as Buffer)
    return
  }
  if (bytes > SCRATCH_BYTES || socket.writableLength > 0) {
    socket.write(Buffer.concat(frames, bytes))
    return
  }
  let offset = 0
  for (const frame of frames) offset += frame.copy(scratch, offset)
  socket.write(scratch.subarray(0, bytes))
  if (socket.writableLength > 0) scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES)
}
