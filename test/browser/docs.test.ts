import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { test } from 'node:test'
import { chromium } from 'playwright-core'
import { startServer } from '../helpers.js'
import { loadSpec } from '../spec.js'

/** Debian's Chromium: the test never downloads a browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const OUTPUT_DIR = new URL('../../test-results/', import.meta.url)
const STEP_MS = 15_000

test('/docs lists every operation and "Try it out" on GET /health shows a 200', async (t) => {
  const server = await startServer(t)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: STEP_MS })
  t.after(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } })
  page.setDefaultTimeout(STEP_MS)

  // The page must work offline: anything not served by this server is refused and recorded.
  const origin = new URL(server.url).origin
  const foreign: string[] = []
  await page.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith(origin + '/') || url.startsWith('data:')) return route.continue()
    foreign.push(url)
    return route.abort()
  })
  const problems: string[] = []
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()) })
  page.on('pageerror', (error) => problems.push(error.message))

  await page.goto(`${server.url}/docs`)
  await page.locator('.opblock').first().waitFor()

  const operations = Object.values(loadSpec().paths as Record<string, Record<string, unknown>>).flatMap((item) => Object.keys(item).filter((key) => key !== 'parameters'))
  assert.equal(await page.locator('.opblock').count(), operations.length)
  for (const summary of ['Create a topic', 'Publish a message to a topic', 'Open the client WebSocket', 'Prometheus metrics']) {
    assert.equal(await page.getByText(summary, { exact: true }).count(), 1, summary)
  }

  const health = page.locator('#operations-operations-health')
  await health.locator('.opblock-summary').click()
  await health.getByRole('button', { name: 'Try it out' }).click()
  await health.getByRole('button', { name: 'Execute' }).click()
  const live = health.locator('.live-responses-table')
  await live.locator('.response-col_status', { hasText: '200' }).waitFor()
  const body = await live.locator('.response-col_description pre').first().innerText()
  const parsed = JSON.parse(body) as { status?: string }
  assert.equal(parsed.status, 'ok')

  mkdirSync(OUTPUT_DIR, { recursive: true })
  await page.screenshot({ path: new URL('docs.png', OUTPUT_DIR).pathname, fullPage: true })
  assert.deepEqual(foreign, [], 'the page asked for resources from elsewhere')
  assert.deepEqual(problems, [], 'the page logged errors')
})
