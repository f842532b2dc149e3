import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { within } from '../helpers.js'

/** A redis-server of a test's own, on a free port of 127.0.0.1. */
export type TestRedis = {
  port: number
  url: string
  process: ChildProcess
  /** Sends `args` with redis-cli and returns its output. */
  cli(...args: string[]): Promise<string>
  /** kill -9, then a new redis-server on the same port and data directory. */
  restart(): Promise<void>
  kill(): Promise<void>
  stop(): Promise<void>
}

export type RedisSettings = {
  /** Append-only file, fsynced on every write: no acknowledged write is lost by a crash. */
  aof?: boolean
  /** Extra `--name value` settings. */
  config?: Record<string, string>
}

const START_MS = 10_000

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

function launch(port: number, dir: string, settings: RedisSettings): Promise<ChildProcess> {
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no',
    '--appendonly', settings.aof ? 'yes' : 'no', '--appendfsync', 'always',
    ...Object.entries(settings.config ?? {}).flatMap(([name, value]) => [`--${name}`, value]),
  ]
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const ready = new Promise<ChildProcess>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('Ready to accept connections')) resolve(child)
    })
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready`)))
    child.once('error', reject)
  })
  return within(ready, `redis-server on port ${port} to start`, START_MS)
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()))

/** Starts redis-server (no persistence unless `aof`); stop() ends it and removes its directory. */
export async function startRedis(settings: RedisSettings = {}): Promise<TestRedis> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'pubsub-redis-'))
  const redis: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: await launch(port, dir, settings),
    cli: (...args) => new Promise((resolve, reject) => {
      const cli = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
      let output = ''
      cli.stdout.on('data', (chunk) => { output += chunk })
      cli.on('exit', (code) => (code === 0 ? resolve(output.trim()) : reject(new Error(`redis-cli ${args.join(' ')} exited ${code}`))))
    }),
    restart: async () => {
      await redis.kill()
      redis.process = await launch(port, dir, settings)
    },
    kill: async () => {
      redis.process.kill('SIGKILL')
      await exited(redis.process)
    },
    stop: async () => {
      await redis.kill()
      await rm(dir, { recursive: true, force: true })
    },
  }
  return redis
}
