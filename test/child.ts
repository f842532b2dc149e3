import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { copyFile, mkdir, rm } from 'node:fs/promises'
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
  // Laid out like the package: dist/ beside openapi.yaml, which the server reads at start.
  const packageDir = join(PROJECT_ROOT, '.test-build', randomUUID())
  const outDir = join(packageDir, 'dist')
  const remove = (): Promise<void> => rm(packageDir, { recursive: true, force: true })
  await mkdir(packageDir, { recursive: true })
  await copyFile(join(PROJECT_ROOT, 'openapi.yaml'), join(packageDir, 'openapi.yaml'))
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

export type ServerProcess = {
  child: ChildProcess
  port: number
  stdout: string[]
  stderr: string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  waitForLog(msg: string): Promise<LogLine>
}

/** Runs a node process and collects its output; killed after the test if still running. */
export function runNode(t: TestContext, args: string[], env: Record<string, string>): Omit<ServerProcess, 'port'> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const log = watchLog()
  const stderr: string[] = []
  createInterface({ input: child.stdout! }).on('line', log.push)
  createInterface({ input: child.stderr! }).on('line', (text) => stderr.push(text))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  return { child, stdout: log.lines, stderr, exited, waitForLog: log.waitFor }
}

/** Starts the server as its own process on an ephemeral port and waits until it listens. */
export async function spawnServer(t: TestContext, args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const run = runNode(t, args, { HOST: '127.0.0.1', PORT: '0', ...env })
  const listening = await run.waitForLog('listening')
  return { ...run, port: Number(listening.port) }
}
