import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { copyFile, cp, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { watchLog, within, type LogLine } from './helpers.js'

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The CLI run from source, as `npm run dev` does. */
export const SOURCE_ENTRY = ['--import', 'tsx', join(PROJECT_ROOT, 'src/main.ts')]

const BUILD_WAIT_MS = 60_000

/**
 * Compiles src/ the way `npm run build` does, into a folder of its own inside
 * the project (so `ws` resolves from node_modules); the caller removes it.
 */
export async function buildProject(): Promise<{ entry: string; remove(): Promise<void> }> {
  // Laid out like the package: dist/ beside openapi.yaml and console/, which the server checks at start.
  const packageDir = join(PROJECT_ROOT, '.test-build', randomUUID())
  const outDir = join(packageDir, 'dist')
  const remove = (): Promise<void> => rm(packageDir, { recursive: true, force: true })
  await mkdir(packageDir, { recursive: true })
  await copyFile(join(PROJECT_ROOT, 'openapi.yaml'), join(packageDir, 'openapi.yaml'))
  await cp(join(PROJECT_ROOT, 'console'), join(packageDir, 'console'), { recursive: true })
  const tsc = spawn(process.execPath, [join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', PROJECT_ROOT, '--outDir', outDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  tsc.stdout.on('data', (chunk) => { output += chunk })
  tsc.stderr.on('data', (chunk) => { output += chunk })
  const code = await within(new Promise<number | null>((resolve) => tsc.on('exit', resolve)), 'tsc to compile', BUILD_WAIT_MS)
  if (code !== 0) {
    await remove()
    throw new Error(`tsc failed: ${output}`)
  }
  return { entry: join(outDir, 'main.js'), remove }
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null }

export type NodeProcess = {
  child: ChildProcess
  /** Every line written to stdout (the JSON log), raw. */
  stdout: string[]
  stderr: string[]
  exited: Promise<Exit>
  /** Resolves with the first log line, past or future, with this msg; fails as soon as the process is gone without it. */
  waitForLog(msg: string, ms?: number): Promise<LogLine>
}

export type ServerProcess = NodeProcess & { port: number; url: string; wsUrl: string }

export type NodeOptions = {
  /** What node runs after its flags; the CLI from source unless set. */
  entry?: string[]
  /** The whole environment of the child besides PATH, so nothing from the caller's shell leaks in. */
  env?: Record<string, string>
  /** Soft open-file limit, set by the shell before node starts: for tests of process-wide limits. */
  openFiles?: number
  /** Node flags before the entry, such as --expose-gc. */
  nodeFlags?: string[]
  /** Opens an IPC channel, for a child that takes requests through process.send. */
  ipc?: boolean
}

/** Generous: a child loading TypeScript through tsx on a busy machine can take seconds to listen. */
const START_WAIT_MS = 15_000

/**
 * Runs node with `options` and collects its output. With a test context it is
 * killed after the test if still running; without one (a script) the caller stops it.
 */
export function runNode(t: TestContext | undefined, options: NodeOptions = {}): NodeProcess {
  const node = [process.execPath, ...(options.nodeFlags ?? []), ...(options.entry ?? SOURCE_ENTRY)]
  const [command, args] = options.openFiles === undefined
    ? [node[0] as string, node.slice(1)]
    : ['bash', ['-c', `ulimit -n ${options.openFiles} && exec "$@"`, 'node', ...node]]
  const child = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  })
  t?.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const log = watchLog()
  const stderr: string[] = []
  createInterface({ input: child.stdout! }).on('line', log.push)
  createInterface({ input: child.stderr! }).on('line', (text) => stderr.push(text))
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  // 'close' comes after stdout has ended, so every line the process wrote has been read by then.
  child.on('close', () => log.end('the process exited'))
  return { child, stdout: log.lines, stderr, exited, waitForLog: log.waitFor }
}

/** Starts the server as its own process on an ephemeral port of 127.0.0.1 and waits until it listens. */
export async function spawnServer(t: TestContext | undefined, options: NodeOptions = {}): Promise<ServerProcess> {
  const run = runNode(t, { ...options, env: { HOST: '127.0.0.1', PORT: '0', ...options.env } })
  const listening = await run.waitForLog('listening', START_WAIT_MS).catch((error: unknown) => {
    run.child.kill('SIGKILL')
    throw error
  })
  const port = Number(listening.port)
  return { ...run, port, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws` }
}
