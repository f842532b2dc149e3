import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { packageDir } from '../../src/http/static-assets.js'
import { request, startServer } from '../helpers.js'

const CONSOLE_DIR = new URL('../../console/', import.meta.url)

/** What the page loads: the assets its HTML links, and every module those import, transitively. */
async function reachableAssets(url: string, html: string): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  const queue = [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1] ?? '')
  while (queue.length > 0 && found.size < 100) {
    const ref = queue.shift() ?? ''
    const name = new URL(ref, url).pathname.replace('/console/', '')
    if (found.has(name)) continue
    const res = await request(url, 'GET', ref)
    assert.equal(res.status, 200, `${ref} answered ${res.status}`)
    found.set(name, res.headers.get('content-type') ?? '')
    if (name.endsWith('.js')) {
      for (const m of res.text.matchAll(/^import .* from '(\.\/[\w.-]+)'$/gm)) queue.push(new URL(m[1] ?? '', new URL(ref, url)).pathname)
    }
  }
  return found
}

test('/console is a page whose every script, style and module comes from this server', async (t) => {
  const server = await startServer(t)
  const page = await request(server.url, 'GET', '/console')
  assert.equal(page.status, 200)
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
  const policy = page.headers.get('content-security-policy') ?? ''
  assert.match(policy, /script-src 'self'[;$]/)
  assert.match(policy, /connect-src 'self'/)
  const links = [...page.text.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1] ?? '')
  assert.equal(links.length, 4, links.join(', '))
  for (const link of links) {
    assert.match(link, /^\/console\/[\w.-]+\?v=[0-9a-f]{16}$/, `${link} must be a versioned asset of this server`)
    assert.equal((await request(server.url, 'GET', link)).headers.get('cache-control'), 'public, max-age=31536000, immutable', link)
  }
  assert.deepEqual([...page.text.matchAll(/(?:src|href)="(?!\/console\/)([^"]+)"/g)].map((m) => m[1]), ['/docs'], 'only /docs is linked elsewhere')

  const assets = await reachableAssets(server.url, page.text)
  const ownScripts = readdirSync(CONSOLE_DIR).filter((name) => name.endsWith('.js'))
  assert.deepEqual([...assets.keys()].sort(), [...ownScripts, 'console.css', 'uPlot.iife.min.js', 'uPlot.min.css'].sort())
  for (const [name, type] of assets) assert.match(type, name.endsWith('.css') ? /^text\/css/ : /^text\/javascript/, name)
})

test('console assets are served byte for byte from the page folder and the pinned uplot package', async (t) => {
  const server = await startServer(t)
  const uplot = packageDir('uplot')
  const expected: [string, string][] = [
    ['main.js', new URL('main.js', CONSOLE_DIR).pathname],
    ['console.css', new URL('console.css', CONSOLE_DIR).pathname],
    ['uPlot.iife.min.js', `${uplot}/dist/uPlot.iife.min.js`],
    ['uPlot.min.css', `${uplot}/dist/uPlot.min.css`],
  ]
  for (const [name, file] of expected) {
    const res = await fetch(`${server.url}/console/${name}`, { signal: AbortSignal.timeout(5_000) })
    assert.equal(res.status, 200, name)
    assert.equal(res.headers.get('cache-control'), 'no-cache', name)
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', name)
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(file)), `${name} differs from ${file}`)
  }
})

test('nothing outside the console allowlist is served: no other file, no path traversal', async (t) => {
  const server = await startServer(t)
  const attempts = [
    '/console/index.html',
    '/console/tsconfig.json',
    '/console/uPlot.esm.js',
    '/console/uPlot.d.ts',
    '/console/package.json',
    '/console/..%2Fpackage.json',
    '/console/%2E%2E%2F%2E%2E%2Fopenapi.yaml',
    '/console/..%2Fsrc%2Fserver.ts',
    '/console/__proto__',
    '/console/constructor',
    '/console/a/b',
    '/console/main.js/x',
  ]
  for (const path of attempts) {
    const res = await request(server.url, 'GET', path)
    assert.equal(res.status, 404, `${path} answered ${res.status}`)
    assert.equal((res.body as { code?: string } | undefined)?.code, 'NOT_FOUND', path)
  }
  assert.equal((await request(server.url, 'POST', '/console', {})).status, 405)
})

test('the console and its assets are public when an API key is set; what it shows is not', async (t) => {
  const server = await startServer(t, { apiKey: 'secret-key' })
  const page = await request(server.url, 'GET', '/console')
  assert.equal(page.status, 200)
  for (const name of (await reachableAssets(server.url, page.text)).keys()) {
    assert.equal((await request(server.url, 'GET', `/console/${name}`)).status, 200, name)
  }
  for (const path of ['/stats', '/metrics', '/topics']) assert.equal((await request(server.url, 'GET', path)).status, 401, path)
  assert.equal((await request(server.url, 'GET', '/console/index.html')).status, 404, 'an unknown name is still refused, not let through by the public prefix')
})
