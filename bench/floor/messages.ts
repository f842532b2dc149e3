/** Messages between `bench/floor.ts` and its writer and reader processes (fork IPC). */

export type WriterCommand = { cmd: 'listen'; sockets: number } | { cmd: 'write' }

export type WriterReport =
  | { type: 'listening'; port: number }
  | { type: 'accepted' }
  /** `startedAt` is `performance.timeOrigin + performance.now()`, comparable across processes. */
  | { type: 'written'; startedAt: number; loopMs: number; cpuMs: number }
  | { type: 'failed'; reason: string }

export type ReaderCommand = { cmd: 'open'; port: number; sockets: number }

export type ReaderReport =
  | { type: 'connected' }
  /** Sent once every socket has read the whole chunk; `cpuMs` counts from the first read. */
  | { type: 'read'; lastAt: number; cpuMs: number }
  | { type: 'failed'; reason: string }

/** The bytes written to every socket: about one small event frame. */
export const CHUNK_BYTES = 64

export const wallClock = (): number => performance.timeOrigin + performance.now()

export function cpuMs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** Sends a report to the parent; one sent as the parent hangs up is dropped, not thrown. */
export function report(message: WriterReport | ReaderReport): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => {})
}
