import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { appendFile, cp, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { test, type TestContext } from 'node:test'
import { request, watchLog, within } from './helpers.js'
import { PROJECT_ROOT, runNode, spawnServer } from './child.js'
import { openRawWebSocket } from './raw-socket.js'

/** Logged at start-up by a server that neither API_KEY nor AUTH_FILE restricts. */
const OPEN_WARNING = 'access control is off: neither API_KEY nor AUTH_FILE is set, so anyone who reaches the port may do everything'

const badValues: [string, string][] = [
  ['PORT', '99999'],
  ['PORT', 'http'],
  ['HOST', ''],
  ['LOG_LEVEL', 'verbose'],
  ['MAX_HISTORY_PER_TOPIC', '-5'],
  ['HEARTBEAT_INTERVAL_MS', 'soon'],
  ['SHUTDOWN_TIMEOUT_MS', '2.5'],
  ['MAX_PAYLOAD_BYTES', '0'],
  ['MAX_BUFFERED_BYTES', '1MB'],
  ['MAX_TOPICS', '0'],
  ['MAX_SUBSCRIPTIONS_PER_CONNECTION', 'many'],
]

test('the CLI refuses each bad variable with exit code 1 and one line naming it', async (t) => {
  await Promise.all(badValues.map(async ([variable, value]) => {
    const run = runNode(t, { env: { [variable]: value } })
    // Eleven CLIs load TypeScript at once: on a busy machine that takes a while.
    const { code } = await within(run.exited, `the CLI to exit for ${variable}`, 60_000)
    assert.equal(code, 1, `${variable}=${value}`)
    assert.equal(run.stderr.length, 1, `one line for ${variable}: ${run.stderr.join(' | ')}`)
    assert.match(run.stderr[0] ?? '', new RegExp(`^invalid configuration: ${variable} must be `))
  }))
})

test('a bad configuration line never echoes the API key', async (t) => {
  const run = runNode(t, { env: { API_KEY: 'super-secret', PORT: 'nope' } })
  assert.equal((await within(run.exited, 'the CLI to exit', 15_000)).code, 1)
  assert.ok(!run.stderr.join('\n').includes('super-secret'))
  assert.ok(!run.stdout.join('\n').includes('super-secret'))
})

test('the CLI serves on the configured port, logs JSON lines and exits 0 on SIGTERM', async (t) => {
  const server = await spawnServer(t, { env: { API_KEY: 'super-secret' } })
  const res = await request(server.url, 'GET', '/health')
  assert.equal(res.status, 200)
  server.child.kill('SIGTERM')
  assert.equal((await within(server.exited, 'the server to exit', 15_000)).code, 0)
  const messages = server.stdout.map((text) => (JSON.parse(text) as { msg: string }).msg)
  assert.deepEqual(messages, ['listening', 'signal received: shutting down gracefully', 'shutting down', 'stopped'])
  assert.ok(!server.stdout.join('\n').includes('super-secret'))
})

/**
 * Makes listen() take a second, and say so on stderr once the code that called
 * it has run to its end (a turn later), so a signal can land while the server starts.
 */
const SLOW_LISTEN = 'data:text/javascript,' + encodeURIComponent(`
  import { Server } from 'node:net'
  const listen = Server.prototype.listen
  Server.prototype.listen = function (...args) {
    setImmediate(() => process.stderr.write('listen called\\n'))
    setTimeout(() => listen.apply(this, args), 1000)
    return this
  }
`)

test('a signal that arrives while the server is still starting shuts it down once it listens', async (t) => {
  const run = runNode(t, { nodeFlags: ['--import', SLOW_LISTEN], env: { HOST: '127.0.0.1', PORT: '0' } })
  await within(new Promise<void>((resolve) => run.child.stderr?.on('data', (chunk) => {
    if (String(chunk).includes('listen called')) resolve()
  })), 'the server to call listen')
  run.child.kill('SIGTERM')
  assert.deepEqual(await within(run.exited, 'the server to exit', 15_000), { code: 0, signal: null })
  const messages = run.stdout.map((text) => (JSON.parse(text) as { msg: string }).msg)
  assert.deepEqual(messages, [OPEN_WARNING, 'signal received: shutting down gracefully', 'listening', 'shutting down', 'stopped'])
})

// Ctrl-C in a terminal signals the whole group, so the server hears it from the terminal and again from npm.
// There a client that never answers the close keeps the server draining when npm's copy comes, which
// must count as the same signal, not as a second one that exits 1 at once.
const npmSignals = [
  { how: 'SIGTERM sent to npm alone', signal: 'SIGTERM', group: false },
  { how: 'SIGINT sent to its whole process group, as Ctrl-C does', signal: 'SIGINT', group: true },
] as const

for (const { how, signal, group } of npmSignals) {
  test(`npm start shuts the server down gracefully on ${how}`, async (t) => {
    await npmStartThenSignal(t, signal, group)
  })
}

type NpmStart = { pid: number; log: ReturnType<typeof watchLog>; port: number; exited: Promise<number | null> }

/** Runs `npm start` in `cwd` in a process group of its own, and waits until the server listens. */
async function npmStart(t: TestContext, cwd: string): Promise<NpmStart> {
  const npm = spawn('npm', ['start', '--silent'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', SHUTDOWN_TIMEOUT_MS: '1000' },
    stdio: ['ignore', 'pipe', 'inherit'],
    // A group of its own, so that a server npm failed to stop is killed with it after the test.
    detached: true,
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    npm.on('exit', resolve)
    npm.on('error', reject)
  })
  const pid = npm.pid
  if (pid === undefined) {
    await exited // rejects with why npm could not start
    throw new Error('npm did not start')
  }
  t.after(() => {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // The group has already exited, which is what a passing test leaves.
    }
  })
  const log = watchLog()
  createInterface({ input: npm.stdout }).on('line', log.push)
  npm.on('close', () => log.end('npm exited'))
  const { port } = await log.waitFor('listening', 60_000) // tsc compiles first when the sources changed
  return { pid, log, port: Number(port), exited }
}

async function npmStartThenSignal(t: TestContext, signal: NodeJS.Signals, group: boolean): Promise<void> {
  const { pid, log, port, exited } = await npmStart(t, PROJECT_ROOT)
  if (group) (await openRawWebSocket(t, port)).pause()
  process.kill(group ? -pid : pid, signal)
  await log.waitFor('stopped', 15_000)
  assert.equal(await within(exited, 'npm to exit', 15_000), 0)
  const messages = log.lines.map((text) => (JSON.parse(text) as { msg: string }).msg)
  const drained = group ? ['shutdown timeout: destroying remaining connections'] : []
  assert.deepEqual(messages, [OPEN_WARNING, 'listening', 'signal received: shutting down gracefully', 'shutting down', ...drained, 'stopped'])
}

test('npm start compiles a fresh tree, skips the compiler when nothing changed, and compiles again after an edit', async (t) => {
  // A copy of what the build and the server read, inside the project so that node_modules resolves.
  const tree = join(PROJECT_ROOT, '.test-build', randomUUID())
  t.after(() => rm(tree, { recursive: true, force: true }))
  for (const path of ['src', 'scripts', 'tsconfig.json', 'package.json', 'package-lock.json', 'openapi.yaml', 'console']) {
    await cp(join(PROJECT_ROOT, path), join(tree, path), { recursive: true })
  }
  const main = join(tree, 'dist', 'main.js')
  const startThenStop = async (): Promise<void> => {
    const { pid, exited } = await npmStart(t, tree)
    process.kill(pid, 'SIGTERM')
    assert.equal(await within(exited, 'npm to exit', 15_000), 0)
  }

  await startThenStop()
  const built = (await stat(main)).mtimeMs
  await startThenStop()
  assert.equal((await stat(main)).mtimeMs, built, 'npm start compiled a tree that had not changed')

  const marker = `// edited ${randomUUID()}`
  await appendFile(join(tree, 'src', 'main.ts'), `${marker}\n`)
  await startThenStop()
  assert.ok((await readFile(main, 'utf8')).includes(marker), 'npm start ran an edited tree without compiling it')
})
