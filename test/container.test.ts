import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { DEFAULTS, SETTINGS } from '../src/config.js'
import { within } from './helpers.js'
import { checkServes } from './support/served.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BUILD_MS = 120_000

/** The JSON array of an exec-form instruction (`CMD [...]`, `HEALTHCHECK ... CMD [...]`) in the runtime stage. */
function execForm(dockerfile: string, instruction: RegExp): string[] {
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))
  const joined = runtime.replace(/\\\n\s*/g, ' ')
  const line = joined.split('\n').find((l) => instruction.test(l))
  assert.ok(line, `the runtime stage has no ${instruction}`)
  const json = line.slice(line.indexOf('['))
  const command: unknown = JSON.parse(json)
  assert.ok(Array.isArray(command) && command.every((part) => typeof part === 'string'), `${line} is not exec form`)
  return command as string[]
}

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')

test('the Dockerfile is multi-stage, runs as a non-root user and starts node directly', () => {
  assert.match(dockerfile, /^FROM \S+ AS build$/m)
  assert.match(dockerfile, /^FROM \S+ AS runtime$/m)
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))
  assert.match(runtime, /^USER (?!root)\S+$/m)
  assert.match(runtime, /^EXPOSE 8000$/m)
  assert.match(runtime, /--omit=dev/)
  assert.deepEqual(execForm(dockerfile, /^CMD /), ['node', '--max-semi-space-size=8', 'dist/main.js'])
  assert.equal(execForm(dockerfile, /^HEALTHCHECK /)[0], 'node')
  const copied = [...runtime.matchAll(/^COPY (?:--from=\S+ )?(.+) \S+$/gm)].flatMap((m) => (m[1] ?? '').split(' '))
  assert.deepEqual(copied.sort(), ['/app/dist', 'console', 'openapi.yaml', 'package-lock.json', 'package.json'])
})

test('the Dockerfile takes its base as a build argument that defaults to the official Node 20 image', () => {
  const froms = [...dockerfile.matchAll(/^FROM (\S+) AS \S+$/gm)].map((m) => m[1])
  assert.deepEqual(froms, ['${NODE_IMAGE}', '${NODE_IMAGE}'])
  // An ARG before the first FROM is the only kind a FROM line can read.
  const preamble = dockerfile.slice(0, dockerfile.indexOf('\nFROM '))
  assert.match(preamble, /^ARG NODE_IMAGE=node:20-bookworm-slim$/m)
})

test('the image starts node with the same flags as npm start', () => {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
  assert.ok(scripts.start.endsWith(` && exec ${execForm(dockerfile, /^CMD /).join(' ')}`), scripts.start)
})

test('docker-compose.yml runs pubsub with every variable at its default and a stop grace beyond the shutdown timeout', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { init?: boolean; ports?: string[]; environment?: Record<string, string>; healthcheck?: { test?: string[] }; stop_grace_period?: string }>
  }
  const service = compose.services.pubsub
  assert.ok(service, 'no service named pubsub')
  assert.equal(service.init, true)
  // The host side defaults to 8000 and HOST_PORT moves it; the container side is PORT's default.
  assert.deepEqual(service.ports, ['${HOST_PORT:-8000}:8000'])
  for (const setting of SETTINGS) {
    const value: string | undefined = service.environment?.[setting.variable]
    assert.ok(value !== undefined, `${setting.variable} is missing`)
    if (['API_KEY', 'AUTH_FILE', 'REDIS_URL'].includes(setting.variable)) assert.equal(value, `\${${setting.variable}:-}`)
    else assert.equal(setting.parse(value), DEFAULTS[setting.option], setting.variable)
  }
  assert.deepEqual(service.healthcheck?.test, ['CMD', ...execForm(dockerfile, /^HEALTHCHECK /)])
  const grace = /^(\d+)s$/.exec(service.stop_grace_period ?? '')
  assert.ok(grace, `stop_grace_period ${service.stop_grace_period} should be in seconds`)
  assert.ok(Number(grace[1]) * 1000 > DEFAULTS.shutdownTimeoutMs, 'stop_grace_period must exceed SHUTDOWN_TIMEOUT_MS')
})

test('.dockerignore keeps local builds, dependencies and tests out of the build context, but not the sources', () => {
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  for (const path of ['node_modules', 'dist', 'test', '.git']) assert.ok(ignored.includes(path), `${path} is not ignored`)
  const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? '').split(' '))
  assert.deepEqual([...new Set(sources)].sort(), ['console', 'openapi.yaml', 'package-lock.json', 'package.json', 'scripts', 'src', 'tsconfig.json'])
  for (const source of sources) assert.ok(!ignored.includes(source), `${source} is copied but ignored`)
})

/** Lists files under `dir`, relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`])
}

// Without a Docker engine, the runtime stage is rebuilt by hand from the same
// instructions: compile, copy what the stage copies, install production
// dependencies only, and start the server with the stage's CMD.
describe('the runtime stage, reproduced in a temporary folder', () => {
  const app = mkdtempSync(join(tmpdir(), 'pubsub-runtime-'))
  let server: ChildProcess | undefined
  let url = ''
  const output: string[] = []

  before(async () => {
    for (const file of ['package.json', 'package-lock.json', 'openapi.yaml']) copyFileSync(join(ROOT, file), join(app, file))
    cpSync(join(ROOT, 'console'), join(app, 'console'), { recursive: true })
    // The runner gives this whole file --test-timeout, so compile and install side by side.
    // --noCheck: the same emit as `npm run build`; type errors are `npm run typecheck`'s job.
    const tsc = [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(app, 'dist'), '--noCheck']
    await Promise.all([
      run(process.execPath, tsc, { timeout: BUILD_MS }),
      run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, timeout: BUILD_MS }),
    ])

    const [command, ...args] = execForm(dockerfile, /^CMD /)
    server = spawn(command === 'node' ? process.execPath : (command ?? ''), args, {
      cwd: app,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: '2000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    server.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    const port = await within(new Promise<number>((resolve, reject) => {
      server?.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${output.join('')}`)))
      server?.stdout?.on('data', (chunk: Buffer) => {
        output.push(chunk.toString())
        const listening = /"msg":"listening".*?"port":(\d+)/.exec(output.join(''))
        if (listening) resolve(Number(listening[1]))
      })
    }), 'the compiled server to listen', 15_000)
    url = `http://127.0.0.1:${port}`
  }, { timeout: BUILD_MS })

  after(() => {
    if (server?.exitCode === null) server.kill('SIGKILL')
    rmSync(app, { recursive: true, force: true })
  })

  test('holds production dependencies and compiled JavaScript only', () => {
    const modules = readdirSync(join(app, 'node_modules')).filter((name) => !name.startsWith('.'))
    for (const dev of ['typescript', 'tsx', '@types', 'ajv', 'playwright-core', 'esbuild']) assert.ok(!modules.includes(dev), `${dev} is installed`)
    for (const runtime of ['ws', 'swagger-ui-dist', 'yaml']) assert.ok(modules.includes(runtime), `${runtime} is missing`)
    const compiled = filesUnder(join(app, 'dist'))
    assert.ok(compiled.includes('main.js') && compiled.includes('http/docs.js'))
    assert.deepEqual(compiled.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [])
    assert.ok(!existsSync(join(app, 'src')) && !existsSync(join(app, 'test')))
  })

  test('the image health check passes', async () => {
    const [command, ...args] = execForm(dockerfile, /^HEALTHCHECK /)
    assert.equal(command, 'node')
    const port = new URL(url).port
    await run(process.execPath, args, { env: { PORT: port }, timeout: 10_000 })
  })

  test('serves health, the docs and a publish/subscribe round trip', async (t) => {
    await checkServes(t, url)
  })

  test('SIGTERM shuts it down gracefully with exit code 0', async () => {
    assert.ok(server)
    const exited = new Promise<number | null>((resolve) => server?.once('exit', (code) => resolve(code)))
    server.kill('SIGTERM')
    assert.equal(await within(exited, 'the server to exit after SIGTERM', 10_000), 0)
    assert.match(output.join(''), /"msg":"stopped"/)
  })
})
