import os from 'node:os'
import { flagValue } from './lib/args.js'
import { ClientProcess } from './lib/client-process.js'
import { fmt } from './lib/format.js'
import { sleep } from './lib/proc.js'
import { median } from './lib/stats.js'
import type { ReaderCommand, ReaderReport, WriterCommand, WriterReport } from './floor/messages.js'

/**
 * `npm run bench:floor [-- --sockets 1000,15000] [--runs N]`
 *
 * The machine's floor for reaching many sockets once: a plain TCP server
 * writes one 64-byte chunk to each of N sockets held by plain TCP readers in
 * other processes. No WebSocket framing, no broker, no parsing: whatever this
 * takes, no Node server on this machine can reach N sockets faster.
 */

const MAX_SOCKETS_PER_READER = 3_000
const CONNECT_TIMEOUT_MS = 120_000
const WRITE_TIMEOUT_MS = 30_000
/** Lets the connection storm's leftovers (timers, GC, kernel queues) finish before the timed write. */
const SETTLE_MS = 1_000

type FloorRun = { reachAllMs: number; loopMs: number; writerCpuMs: number; readersCpuMs: number }

const script = (name: string): string => new URL(`./floor/${name}.js`, import.meta.url).pathname

function parseArgs(argv: string[]): { sockets: number[]; runs: number } {
  const valueOf = (flag: string): string | undefined => flagValue(argv, flag)
  const sockets = (valueOf('--sockets') ?? '1000,15000').split(',').map(Number)
  const runs = Number(valueOf('--runs') ?? 3)
  if (!sockets.every((n) => Number.isInteger(n) && n > 0)) throw new Error('--sockets takes positive integers, comma-separated')
  return { sockets, runs: Number.isInteger(runs) && runs > 0 ? runs : 3 }
}

async function runOnce(sockets: number): Promise<FloorRun> {
  const writer = new ClientProcess<WriterCommand, WriterReport>(script('writer'), 'floor writer')
  const readerCount = Math.max(2, Math.ceil(sockets / MAX_SOCKETS_PER_READER))
  const readers = Array.from({ length: readerCount }, (_, i) => new ClientProcess<ReaderCommand, ReaderReport>(script('reader'), `floor reader#${i}`))
  try {
    const listening = writer.wait('listening', CONNECT_TIMEOUT_MS)
    writer.send({ cmd: 'listen', sockets })
    const { port } = await listening
    const accepted = writer.wait('accepted', CONNECT_TIMEOUT_MS)
    await Promise.all(readers.map((reader, i) => {
      const connected = reader.wait('connected', CONNECT_TIMEOUT_MS)
      // Spread the sockets evenly; the first readers take the remainder.
      const share = Math.floor(sockets / readerCount) + (i < sockets % readerCount ? 1 : 0)
      reader.send({ cmd: 'open', port, sockets: share })
      return connected
    }))
    await accepted
    await sleep(SETTLE_MS)
    const reads = readers.map((reader) => reader.wait('read', WRITE_TIMEOUT_MS))
    const written = writer.wait('written', WRITE_TIMEOUT_MS)
    writer.send({ cmd: 'write' })
    const [write, readReports] = await Promise.all([written, Promise.all(reads)])
    return {
      reachAllMs: (Math.max(...readReports.map((r) => r.lastAtMicros)) - write.startedAtMicros) / 1000,
      loopMs: write.loopMs,
      writerCpuMs: write.cpuMs,
      readersCpuMs: readReports.reduce((sum, r) => sum + r.cpuMs, 0),
    }
  } finally {
    await Promise.all([writer, ...readers].map((p) => p.close()))
  }
}

async function main(): Promise<void> {
  const { sockets, runs } = parseArgs(process.argv.slice(2))
  const loadBefore = os.loadavg()
  console.log(`TCP floor: ${os.cpus().length} cores, Node ${process.version}, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`)
  const rows: string[][] = []
  for (const count of sockets) {
    const results: FloorRun[] = []
    for (let r = 0; r < runs; r++) {
      const run = await runOnce(count)
      results.push(run)
      console.log(`  ${fmt(count)} sockets: reached all in ${fmt(run.reachAllMs, 1)} ms; write loop ${fmt(run.loopMs, 1)} ms; CPU: writer ${fmt(run.writerCpuMs, 1)} ms, readers ${fmt(run.readersCpuMs, 1)} ms`)
    }
    const med = (pick: (run: FloorRun) => number): number => median(results.map(pick))
    rows.push([
      fmt(count), fmt(med((r) => r.reachAllMs), 1), fmt(med((r) => r.loopMs), 1),
      fmt((med((r) => r.writerCpuMs) * 1000) / count, 1), fmt((med((r) => r.readersCpuMs) * 1000) / count, 1),
    ])
  }
  console.log(`\nmedians of ${runs} run(s)`)
  const header = ['sockets', 'reach all (ms)', 'write loop (ms)', 'writer CPU µs/socket', 'readers CPU µs/socket']
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(8) : cell.padStart(header[i]?.length ?? 0))).join('  '))
  console.log(`\nload average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
