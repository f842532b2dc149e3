import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { chromium } from 'playwright-core'
import { BUNDLE_URL, gzippedSize } from '../../scripts/bundle-client.js'
import { request, startServer } from '../helpers.js'
import { startProxy } from '../support/tcp-proxy.js'

/** Debian's Chromium: the test never downloads a browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const STEP_MS = 15_000
const SIZE_BUDGET = 6 * 1024
const KEY = 'browser-test-key'

test('the browser build is one module under 6 KB gzipped, with no Node module in it', () => {
  // `npm run test:browser` builds it first, exactly as `npm run build` does.
  const bundle = readFileSync(BUNDLE_URL)
  const gzipped = gzippedSize(bundle)
  console.log(`browser client: ${bundle.length} bytes minified, ${gzipped} bytes minified + gzip (budget ${SIZE_BUDGET})`)
  assert.ok(gzipped < SIZE_BUDGET, `${gzipped} bytes gzipped`)
  assert.doesNotMatch(bundle.toString(), /\brequire\(|["']node:|from\s*["']ws["']/)
})

test('in Chromium the client from /client.js subscribes, survives a dropped connection and resumes', async (t) => {
  const server = await startServer(t, { apiKey: KEY })
  const auth = { 'X-API-Key': KEY }
  assert.equal((await request(server.url, 'POST', '/topics', { name: 'orders' }, auth)).status, 201)
  const publish = async (from: number, to: number): Promise<void> => {
    for (let n = from; n <= to; n++) assert.equal((await request(server.url, 'POST', '/topics/orders/messages', { payload: { n } }, auth)).status, 200)
  }
  const proxy = await startProxy(t, server.address.port)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: STEP_MS })
  t.after(() => browser.close())
  const page = await browser.newPage()
  page.setDefaultTimeout(STEP_MS)
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(error.message))

  // /client.js is public like /docs: the page loads it without the key, then connects with it.
  const script = await request(server.url, 'GET', '/client.js')
  assert.equal(script.status, 200)
  assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/)
  await page.goto(`${server.url}/health`)
  await page.addScriptTag({
    type: 'module',
    content: `
      import { createClient } from '/client.js'
      const client = createClient('ws://127.0.0.1:${proxy.port}/ws', { apiKey: '${KEY}', backoff: { minDelayMs: 100, maxDelayMs: 400 } })
      window.seen = []
      window.states = []
      window.resets = []
      client.on('state', (state) => window.states.push(state))
      window.sub = client.subscribe('orders', (event) => window.seen.push(event.payload.n))
      window.sub.on('reset', ({ reason }) => window.resets.push(reason))
    `,
  })
  await page.waitForFunction("window.sub?.state === 'subscribed'")
  await publish(1, 5)
  await page.waitForFunction('window.seen.length === 5')

  // Cut the connection and keep the server unreachable while events are published.
  proxy.refusing = true
  assert.equal(proxy.cutAll(), 1)
  await page.waitForFunction("window.states.includes('disconnected')")
  await publish(6, 10)
  proxy.refusing = false
  await page.waitForFunction('window.seen.length >= 10')

  const { seen, states, resets } = await page.evaluate('({ seen: window.seen, states: window.states, resets: window.resets })') as { seen: number[]; states: string[]; resets: string[] }
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  assert.deepEqual(resets, [])
  assert.equal(states[0], 'connected')
  assert.equal(states.at(-1), 'connected')
  assert.ok(states.includes('disconnected'))
  assert.deepEqual(problems, [])
})
