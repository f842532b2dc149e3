import { sendToParent } from '../lib/messages.js'

/** Messages between `bench/floor.ts` and its writer and reader processes (fork IPC). */

export type WriterCommand = { cmd: 'listen'; sockets: number } | { cmd: 'write' }

export type WriterReport =
  | { type: 'listening'; port: number }
  | { type: 'accepted' }
  /** `startedAtMicros` is wall-clock time, comparable across processes. */
  | { type: 'written'; startedAtMicros: number; loopMs: number; cpuMs: number }
  | { type: 'failed'; reason: string }

export type ReaderCommand = { cmd: 'open'; port: number; sockets: number }

export type ReaderReport =
  | { type: 'connected' }
  /** Sent once every socket has read the whole chunk; `cpuMs` counts from the first read. */
  | { type: 'read'; lastAtMicros: number; cpuMs: number }
  | { type: 'failed'; reason: string }

/** The bytes written to every socket: about one small event frame. */
export const CHUNK_BYTES = 64

/** This process's CPU time in ms, at µs resolution (`/proc` counts in 10 ms ticks). */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

export const report = (message: WriterReport | ReaderReport): void => sendToParent(message)
