import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'
import { within } from './helpers.js'

/** The server as `npm start` runs it, in a child process: for signals and process-wide limits. */

const ROOT = fileURLToPath(new URL('..', import.meta.url))

export type ChildServer = {
  child: ChildProcess
  port: number
  url: string
  wsUrl: string
  /** Every JSON log line the child has written so far. */
  logs: Record<string, unknown>[]
  /** Resolves with the first log line (already written or still to come) that `matches`. */
  logLine(matches: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>
}

export type ChildOptions = {
  env?: Record<string, string>
  /** Soft open-file limit for the child, set by the shell before node starts. */
  openFiles?: number
  /** Extra node flags, such as --expose-gc. */
  nodeFlags?: string[]
}

/** Starts `src/main.ts` on an ephemeral port and waits for its `listening` line; killed after the test if still running. */
export async function spawnServer(t: TestContext | undefined, options: ChildOptions = {}): Promise<ChildServer> {
  const node = [process.execPath, ...(options.nodeFlags ?? []), '--import', 'tsx', 'src/main.ts']
  const [command, args] = options.openFiles === undefined
    ? [node[0] as string, node.slice(1)]
    : ['bash', ['-c', `ulimit -n ${options.openFiles} && exec "$@"`, 'server', ...node]]
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t?.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  const logs: Record<string, unknown>[] = []
  const watchers: (() => void)[] = []
  let partial = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      if (line.trim() === '') continue
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        logs.push({ msg: 'unparsed output', line })
      }
    }
    for (const watcher of watchers.splice(0)) watcher()
  })
  const logLine = (matches: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> =>
    within(new Promise((resolve, reject) => {
      const look = (): void => {
        const found = logs.find(matches)
        if (found) return resolve(found)
        if (child.exitCode !== null) return reject(new Error(`the server exited before logging ${what}`))
        watchers.push(look)
      }
      look()
    }), what, 15_000)
  const listening = await logLine((line) => line.msg === 'listening', 'the listening log line')
  const port = Number(listening.port)
  const url = `http://127.0.0.1:${port}`
  return { child, port, url, wsUrl: `ws://127.0.0.1:${port}/ws`, logs, logLine, exited }
}
