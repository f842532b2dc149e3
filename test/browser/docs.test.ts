import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { test } from 'node:test'
import { chromium, type Page } from 'playwright-core'
import { startServer } from '../helpers.js'
import { loadSpec } from '../spec.js'

/** Debian's Chromium: the test never downloads a browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const OUTPUT_DIR = new URL('../../test-results/', import.meta.url)
const STEP_MS = 15_000

/** Expands an operation, runs "Try it out" with its prefilled values, and reads the live response. */
async function tryItOut(page: Page, id: string): Promise<{ status: string; body: string }> {
  const operation = page.locator(`#operations-${id}`)
  await operation.locator('.opblock-summary').click()
  await operation.getByRole('button', { name: 'Try it out' }).click()
  await operation.getByRole('button', { name: 'Execute' }).click()
  const response = operation.locator('.live-responses-table .response').first()
  await response.waitFor()
  return {
    status: (await response.locator('.response-col_status').innerText()).trim(),
    body: await response.locator('.response-col_description pre').first().innerText(),
  }
}

test('/docs lists every operation; "Try it out" shows 200 on GET /health and 426 on /ws', async (t) => {
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

  try {
    await page.goto(`${server.url}/docs`)
    await page.locator('.opblock').first().waitFor()

    const operations = Object.values(loadSpec().paths as Record<string, Record<string, unknown>>).flatMap((item) => Object.keys(item).filter((key) => key !== 'parameters'))
    assert.equal(await page.locator('.opblock').count(), operations.length)
    for (const summary of ['Create a topic', 'Publish a message to a topic', 'Open the client WebSocket', 'Prometheus metrics']) {
      assert.equal(await page.getByText(summary, { exact: true }).count(), 1, summary)
    }

    const health = await tryItOut(page, 'operations-health')
    assert.equal(health.status, '200')
    assert.equal((JSON.parse(health.body) as { status?: string }).status, 'ok')
    assert.deepEqual(problems, [], 'the page logged errors')
    // Swagger UI cannot open a WebSocket; trying /ws shows the server's advice instead
    // (and the browser logs the 426 as a failed load, which is expected from here on).
    const ws = await tryItOut(page, 'websocket-openWebSocket')
    assert.equal(ws.status, '426')
    assert.equal((JSON.parse(ws.body) as { code?: string }).code, 'UPGRADE_REQUIRED')
    assert.deepEqual(foreign, [], 'the page asked for resources from elsewhere')
  } finally {
    // Saved whether the checks pass or not: on a failure it shows what the page looked like.
    mkdirSync(OUTPUT_DIR, { recursive: true })
    await page.screenshot({ path: new URL('docs.png', OUTPUT_DIR).pathname, fullPage: true })
  }
})

test('/docs authorizes with an API key: "Try it out" on GET /stats then answers 200', async (t) => {
  const apiKey = 'docs-authorize-key'
  const server = await startServer(t, { apiKey })
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: STEP_MS })
  t.after(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } })
  page.setDefaultTimeout(STEP_MS)
  await page.goto(`${server.url}/docs`)
  await page.locator('.opblock').first().waitFor()
  assert.equal((await fetch(`${server.url}/stats`, { signal: AbortSignal.timeout(STEP_MS) })).status, 401, 'without the key /stats is refused')

  await page.locator('.btn.authorize').first().click()
  // The dialog has one form per security scheme, each with its own Authorize and Close buttons.
  const scheme = page.locator('.modal-ux form', { hasText: 'ApiKeyHeader' })
  await scheme.locator('input').fill(apiKey)
  await scheme.locator('button.authorize').click()
  await page.locator('.modal-ux button.btn-done').first().click()

  const stats = await tryItOut(page, 'operations-stats')
  assert.equal(stats.status, '200')
  assert.equal(typeof (JSON.parse(stats.body) as { connections?: unknown }).connections, 'number')
})
