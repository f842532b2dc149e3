import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { freePort } from '../../test/support/free-port.js'

const CLOCK_TICKS_PER_SEC = 100

/** User + system CPU seconds a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which may itself contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC
}

/** Write system calls (write, writev, send…) a process has made so far, from /proc/<pid>/io. */
export function writeSyscalls(pid: number): number {
  const match = /^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))
  return match ? Number(match[1]) : Number.NaN
}

/** Resident set size in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) * 1024 : Number.NaN
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export type ServerProcess = {
  child: ChildProcess
  pid: number
  port: number
  /** Milliseconds from spawn to the first 200 from /health. */
  startupMs: number
  stop(): Promise<void>
}

const HEALTH_POLL_MS = 5
const STARTUP_LIMIT_MS = 15_000

/** Servers still running: killed if the orchestrator exits early, so none outlives the benchmark. */
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130))

/** Spawns a server process on a free port and waits for its /health to answer 200. */
export async function startServerProcess(command: string[], env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort()
  const began = performance.now()
  const [program, ...args] = command as [string, ...string[]]
  const child = spawn(program, args, {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  running.add(child)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true
    running.delete(child)
    resolve()
  }))
  while (!(await healthy(port))) {
    if (exited) throw new Error(`${command.join(' ')} exited during start-up: ${stderr}`)
    if (performance.now() - began > STARTUP_LIMIT_MS) {
      child.kill('SIGKILL')
      throw new Error(`${command.join(' ')} did not answer /health within ${STARTUP_LIMIT_MS} ms`)
    }
    await sleep(HEALTH_POLL_MS)
  }
  const startupMs = performance.now() - began
  const stop = async (): Promise<void> => {
    if (exited) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 8_000)
    await exit
    clearTimeout(timer)
  }
  return { child, pid: child.pid as number, port, startupMs, stop }
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) })
    await res.arrayBuffer()
    return res.status === 200
  } catch {
    return false
  }
}

export async function createTopics(port: number, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const res = await fetch(`http://127.0.0.1:${port}/topics`, {
      method: 'POST',
      body: JSON.stringify({ name }),
      signal: AbortSignal.timeout(5_000),
    })
    await res.arrayBuffer()
    if (res.status !== 201) throw new Error(`creating topic ${name} answered ${res.status}`)
  }
}
