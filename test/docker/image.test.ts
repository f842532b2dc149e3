// Builds the image with a real Docker engine and runs it, then runs docker-compose.yml.
// Needs a running engine and a base image it can use: NODE_IMAGE names one (CI builds a
// stand-in with .ci/stand-in-base); unset, the Dockerfile's own default is pulled.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { request, within } from '../helpers.js'
import { checkServes } from '../support/served.js'
import { docker, dockerCli, healthy } from './engine.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BUILD_MS = 10 * 60_000
// The health check first runs 10 s after the start (its --interval), then needs one pass.
const HEALTHY_MS = 60_000
// Beyond SHUTDOWN_TIMEOUT_MS (5 s): a graceful stop never needs Docker's SIGKILL.
const STOP_SECONDS = 15
// The image may add this much to its base: production dependencies, dist/, openapi.yaml and console/.
const MAX_ADDED_BYTES = 15 * 1024 * 1024

const id = randomBytes(4).toString('hex')
const image = `pubsub-server-test:${id}`
const buildStage = `pubsub-server-test:${id}-build`
const base = process.env.NODE_IMAGE
const buildArgs = base ? ['--build-arg', `NODE_IMAGE=${base}`] : []

const unixSeconds = (): number => Math.floor(Date.now() / 1000)

before(async () => {
  // The build stage gets a name of its own so that it can be removed afterwards; the
  // second build reuses its layers.
  await docker(['build', ...buildArgs, '--target', 'build', '-t', buildStage, ROOT], BUILD_MS)
  await docker(['build', ...buildArgs, '-t', image, ROOT], BUILD_MS)
}, { timeout: 2 * BUILD_MS })

after(async () => {
  await docker(['image', 'rm', image, buildStage], 60_000).catch(() => undefined)
})

describe('the image, run by Docker', () => {
  const container = `pubsub-test-${id}`
  let url = ''

  before(async () => {
    const since = unixSeconds()
    await docker(['run', '-d', '--name', container, '-p', '127.0.0.1::8000', image])
    const published = (await docker(['port', container, '8000/tcp'])).trim().split('\n')[0] ?? ''
    url = `http://${published}`
    await healthy(container, since, HEALTHY_MS)
  }, { timeout: HEALTHY_MS + 30_000 })

  after(async () => {
    await docker(['rm', '-f', container]).catch(() => undefined)
  })

  test('adds a few megabytes to its base: production dependencies and compiled code only', async (t) => {
    const size = async (name: string): Promise<number> => Number(await docker(['image', 'inspect', '-f', '{{.Size}}', name]))
    const added = (await size(image)) - (await size(base ?? 'node:20-bookworm-slim'))
    t.diagnostic(`the image adds ${(added / 1e6).toFixed(1)} MB to its base`)
    assert.ok(added < MAX_ADDED_BYTES, `the image adds ${added} bytes to its base`)
    const modules = (await docker(['exec', container, 'ls', 'node_modules'])).split('\n')
    for (const dev of ['typescript', 'tsx', '@types', 'playwright-core']) assert.ok(!modules.includes(dev), `${dev} is installed`)
    const app = (await docker(['exec', container, 'ls', '-A', '/app'])).trim().split('\n')
    assert.deepEqual(app, ['console', 'dist', 'node_modules', 'openapi.yaml', 'package-lock.json', 'package.json'])
    const npmHome = await docker(['exec', '-u', '0', container, 'sh', '-c', 'ls -A /root/.npm 2>/dev/null || true'])
    assert.doesNotMatch(npmHome, /_cacache/, 'the npm cache was left in the image')
  })

  test('runs the server as the non-root node user', async () => {
    // PID 1 is node itself (exec-form CMD): its real and effective uid are the server's.
    const status = await docker(['exec', container, 'cat', '/proc/1/status'])
    assert.match(status, /^Name:\s+node$/m)
    assert.match(status, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m)
    assert.equal((await docker(['exec', container, 'id', '-un'])).trim(), 'node')
  })

  test('serves health, the docs, the console and a publish/subscribe round trip (WebSocket and REST)', async (t) => {
    await checkServes(t, url)
  })

  test('docker stop shuts it down gracefully: the stopped line and exit code 0', async () => {
    await docker(['stop', '-t', String(STOP_SECONDS), container], (STOP_SECONDS + 15) * 1000)
    assert.equal((await docker(['inspect', '-f', '{{.State.ExitCode}}', container])).trim(), '0')
    const logs = await docker(['logs', container])
    assert.match(logs, /"msg":"stopped"/)
  })
})

/** A port nobody listens on right now, for the compose file's HOST_PORT. */
async function freePort(): Promise<number> {
  const server = createServer()
  await within(new Promise<void>((resolve) => server.listen(0, resolve)), 'a free port')
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  assert.ok(address !== null && typeof address === 'object')
  return address.port
}

describe('docker-compose.yml, run by docker-compose', () => {
  const project = `pubsubtest${id}`
  // The override only points the service at the image built above, so nothing is built twice.
  const dir = mkdtempSync(join(tmpdir(), 'pubsub-compose-'))
  const override = join(dir, 'image.yml')
  writeFileSync(override, `services:\n  pubsub:\n    image: ${image}\n`)
  let env = process.env
  const compose = (args: string[], ms = 60_000): Promise<string> =>
    dockerCli('docker-compose', ['-p', project, '-f', join(ROOT, 'docker-compose.yml'), '-f', override, ...args], ms, env)

  after(async () => {
    await compose(['down', '--timeout', String(STOP_SECONDS)], (STOP_SECONDS + 30) * 1000).catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  })

  test('up: Docker reports it healthy and /health answers on HOST_PORT; stop exits 0', async () => {
    const port = await freePort()
    env = { ...process.env, HOST_PORT: String(port) }
    const since = unixSeconds()
    await compose(['up', '-d', '--no-build'])
    const container = (await compose(['ps', '-q', 'pubsub'])).trim()
    assert.match(container, /^[0-9a-f]{12,}$/)
    await healthy(container, since, HEALTHY_MS)
    assert.equal((await request(`http://127.0.0.1:${port}`, 'GET', '/health')).status, 200)

    // With init: true, the init process passes SIGTERM on to node and returns node's exit code.
    await compose(['stop', '--timeout', String(STOP_SECONDS)], (STOP_SECONDS + 15) * 1000)
    assert.equal((await docker(['inspect', '-f', '{{.State.ExitCode}}', container])).trim(), '0')
    assert.match(await docker(['logs', container]), /"msg":"stopped"/)
  })
})
