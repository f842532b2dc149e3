import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { freePort } from './free-port.js'

/**
 * A private `redis-server` for tests, the soak and the benchmark: on a free
 * port of 127.0.0.1, in a directory of its own, without persistence unless
 * asked for. It can be killed and started again on the same port and
 * directory, which is how a Redis restart (with or without its append-only
 * file) looks to the nodes.
 */

export type RedisOptions = {
  /** Keep an append-only file (fsync every write), so a restart keeps what was acknowledged. */
  appendOnly?: boolean
  /** More `redis-server` arguments, e.g. `['--client-output-buffer-limit', 'pubsub 64kb 32kb 1']`. */
  args?: string[]
}

export type RedisServer = {
  port: number
  /** `redis://127.0.0.1:<port>/0`, the form REDIS_URL takes. */
  url: string
  /** The process id of the current redis-server, for reading its CPU from /proc. */
  readonly pid: number
  /** Ends the server at once (SIGKILL by default, as a crash would), and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again on the same port and directory, after `kill`. */
  restart(): Promise<void>
  /** Stops it and removes its directory. */
  stop(): Promise<void>
}

const READY_WAIT_MS = 10_000
const STOP_WAIT_MS = 5_000
/** Attempts at a free port: another process may take the one probed before redis-server binds it. */
const PORT_ATTEMPTS = 5

/** Servers still running: killed if this process exits without stopping them, so none outlives it. */
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

type Launched = { child: ChildProcess; exited: Promise<void> }

/** Spawns redis-server and resolves once it accepts connections; rejects with its output if it exits first. */
function launch(port: number, dir: string, options: RedisOptions): Promise<Launched> {
  const persistence = options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence,
    '--daemonize', 'no', '--loglevel', 'notice', ...(options.args ?? []),
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    running.delete(child)
    resolve()
  }))
  // The last lines only: the server keeps logging (at notice level, rarely) for as long as it runs.
  const output: string[] = []
  const keep = (line: string): void => {
    output.push(line)
    if (output.length > 20) output.shift()
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redis-server on port ${port} was not ready within ${READY_WAIT_MS} ms: ${output.join('\n')}`))
    }, READY_WAIT_MS)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`redis-server could not be started (is it installed?): ${error.message}`))
    })
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`redis-server on port ${port} exited during start-up: ${output.join('\n')}`))
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line)
      if (line.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve({ child, exited })
      }
    })
    createInterface({ input: child.stderr! }).on('line', keep)
  })
}

async function end({ child, exited }: Launched, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_WAIT_MS)
  await exited
  clearTimeout(timer)
}

/** Starts a redis-server of its own; the caller stops it. */
export async function startRedisServer(options: RedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'pubsub-redis-'))
  let current: Launched | undefined
  let port = 0
  for (let attempt = 1; !current; attempt++) {
    port = await freePort()
    try {
      current = await launch(port, dir, options)
    } catch (error) {
      if (attempt >= PORT_ATTEMPTS) {
        await rm(dir, { recursive: true, force: true })
        throw error
      }
    }
  }
  let launched: Launched = current
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    get pid() {
      return launched.child.pid as number
    },
    kill: (signal = 'SIGKILL') => end(launched, signal),
    restart: async () => {
      await end(launched, 'SIGKILL')
      launched = await launch(port, dir, options)
    },
    stop: async () => {
      await end(launched, 'SIGTERM')
      await rm(dir, { recursive: true, force: true })
    },
  }
}
