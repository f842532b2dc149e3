import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { test, type TestContext } from 'node:test'
import { chromium, type Page } from 'playwright-core'
import { connect, createTopic, request, startServer, type TestServer } from '../helpers.js'

/** Debian's Chromium: the test never downloads a browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const OUTPUT_DIR = new URL('../../test-results/', import.meta.url)
const STEP_MS = 15_000

type Watched = { page: Page; foreign: string[]; problems: string[]; urls: string[] }

/** A page that may load only from this server; every URL it asks for and every error it logs is recorded. */
async function openConsole(t: TestContext, server: TestServer, viewport = { width: 1280, height: 800 }): Promise<Watched> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: STEP_MS })
  t.after(() => browser.close())
  const page = await browser.newPage({ viewport })
  page.setDefaultTimeout(STEP_MS)
  const origin = new URL(server.url).origin
  const watched: Watched = { page, foreign: [], problems: [], urls: [] }
  await page.route('**/*', (route) => {
    const url = route.request().url()
    watched.urls.push(url)
    if (url.startsWith(origin + '/')) return route.continue()
    watched.foreign.push(url)
    return route.abort()
  })
  page.on('websocket', (ws) => watched.urls.push(ws.url()))
  page.on('pageerror', (error) => watched.problems.push(error.message))
  await page.goto(`${server.url}/console`)
  return watched
}

const screenshot = (page: Page, name: string): Promise<Buffer> => {
  mkdirSync(OUTPUT_DIR, { recursive: true })
  return page.screenshot({ path: new URL(name, OUTPUT_DIR).pathname, fullPage: true })
}

/** The frames the log shows, oldest first, parsed. */
async function loggedFrames(page: Page, direction: 'in' | 'out'): Promise<Record<string, unknown>[]> {
  const texts = await page.locator(`#log li[data-direction="${direction}"] code`).allInnerTexts()
  return texts.map((text) => JSON.parse(text) as Record<string, unknown>)
}

test('the console connects, subscribes, publishes, logs both directions in seq order, charts the rate and unsubscribes', async (t) => {
  const server = await startServer(t)
  const { page, foreign, problems } = await openConsole(t, server)
  try {
    await page.getByRole('button', { name: 'Connect', exact: true }).click()
    await page.locator('#connection-state[data-state="connected"]').waitFor()
    await createTopic(server.url, 'orders')

    // Keyboard only: type the topic and press Enter to submit the form.
    await page.getByLabel('Topic', { exact: true }).first().fill('orders')
    await page.getByLabel('Topic', { exact: true }).first().press('Enter')
    await page.locator('#subscription-rows tr[data-topic="orders"][data-state="subscribed"]').waitFor()
    const chartBefore = await page.locator('#rate-chart canvas').screenshot()

    await page.locator('#pub-topic').fill('orders')
    await page.getByLabel('Payload (any JSON value)').fill('{"from": "page"}')
    await page.getByRole('button', { name: 'Publish', exact: true }).click()
    await page.locator('#publish-result', { hasText: 'published: seq 1' }).waitFor()
    await page.locator('#log li[data-direction="in"] code', { hasText: '"type":"event"' }).first().waitFor()
    const other = await connect(t, server.wsUrl)
    other.send({ type: 'publish', topic: 'orders', message: { payload: { from: 'client' } }, request_id: 'p' })
    assert.equal((await other.next()).status, 'ok')

    await page.locator('#log li[data-direction="in"] code', { hasText: '"type":"event"' }).nth(1).waitFor()
    const events = (await loggedFrames(page, 'in')).filter((frame) => frame.type === 'event')
    assert.deepEqual(events.map((e) => e.seq), [1, 2])
    assert.deepEqual(events.map((e) => (e.message as { payload: unknown }).payload), [{ from: 'page' }, { from: 'client' }])
    const published = (await loggedFrames(page, 'out')).find((frame) => frame.type === 'publish')
    assert.deepEqual(published?.message, { payload: { from: 'page' } })
    assert.equal(await page.locator('#subscription-rows tr[data-topic="orders"] td').nth(3).innerText(), '2')

    // The live view polls /stats once a second: the publishes show as a rate, and the chart redraws.
    await page.locator('#rate-now', { hasText: /now: (?!0\.0 )\d+\.\d publishes\/s/ }).waitFor()
    assert.notDeepEqual(await page.locator('#rate-chart canvas').screenshot(), chartBefore, 'the rate chart did not change')
    assert.equal(await page.locator('#topic-rows tr').first().locator('td').first().innerText(), 'orders')

    const acks = page.locator('#log li[data-direction="in"] code', { hasText: '"type":"ack"' })
    const acked = await acks.count()
    await page.getByRole('button', { name: 'Unsubscribe orders' }).click()
    await page.locator('#subscription-rows tr').first().waitFor({ state: 'detached' })
    await acks.nth(acked).waitFor()
    const unsubscribe = (await loggedFrames(page, 'out')).at(-1)
    assert.deepEqual([unsubscribe?.type, unsubscribe?.topic], ['unsubscribe', 'orders'])
    const topics = (await request(server.url, 'GET', '/topics')).body as { topics: { subscribers: number }[] }
    assert.equal(topics.topics[0]?.subscribers, 0)
    assert.deepEqual(problems, [], 'the page threw')
    assert.deepEqual(foreign, [], 'the page asked for resources from elsewhere')
  } finally {
    // Saved whether the checks pass or not: on a failure it shows what the page looked like.
    await screenshot(page, 'console.png')
    await page.locator('h1').scrollIntoViewIfNeeded()
    await page.screenshot({ path: new URL('console-1280x800.png', OUTPUT_DIR).pathname })
  }
})

test('the console checks a payload before sending it, and filters and pauses its log', async (t) => {
  const server = await startServer(t)
  await createTopic(server.url, 'orders')
  const { page, problems } = await openConsole(t, server)
  await page.getByRole('button', { name: 'Connect', exact: true }).click()
  await page.locator('#connection-state[data-state="connected"]').waitFor()

  await page.locator('#pub-topic').fill('orders')
  await page.getByLabel('Payload (any JSON value)').fill('{"item": ')
  await page.getByRole('button', { name: 'Publish', exact: true }).click()
  assert.match(await page.locator('#publish-problem').innerText(), /^Payload is not valid JSON/)
  assert.equal(await page.locator('#log li').count(), 0, 'an invalid payload was sent')
  await page.locator('#pub-topic').fill('no spaces allowed')
  await page.getByLabel('Payload (any JSON value)').fill('1')
  await page.getByRole('button', { name: 'Publish', exact: true }).click()
  assert.match(await page.locator('#publish-problem').innerText(), /^Topic must be/)

  await page.getByRole('button', { name: 'Ping' }).click()
  await page.locator('#log li[data-direction="in"] code', { hasText: '"type":"pong"' }).waitFor()
  await page.getByLabel('Filter').fill('pong')
  assert.deepEqual(await page.locator('#log li:visible .direction').allInnerTexts(), ['received'])
  await page.getByLabel('Filter').fill('')
  await page.getByLabel('Direction').selectOption('out')
  assert.deepEqual(await page.locator('#log li:visible .direction').allInnerTexts(), ['sent'])
  await page.getByLabel('Direction').selectOption('')

  await page.getByRole('button', { name: 'Pause' }).click()
  await page.getByRole('button', { name: 'Ping' }).click()
  await page.locator('#log-held', { hasText: '2 new frames held' }).waitFor()
  assert.equal(await page.locator('#log li').count(), 2)
  await page.getByRole('button', { name: 'Resume' }).click()
  assert.equal(await page.locator('#log li').count(), 4)
  assert.deepEqual(problems, [])
})

test('with API_KEY set, the console is refused without the key; with it, it connects (the key in the subprotocol) and reads the live view, never putting the key in a URL', async (t) => {
  const key = 'console-secret-key'
  const server = await startServer(t, { apiKey: key })
  const { page, urls, foreign } = await openConsole(t, server)
  try {
    await page.getByRole('button', { name: 'Connect', exact: true }).click()
    await page.locator('#connection-state[data-state="disconnected"]').waitFor()
    await page.locator('#live-state', { hasText: 'refused' }).waitFor()
    assert.equal(await page.locator('#count-connections').innerText(), '–', 'the live view showed data without a key')

    await page.getByLabel('API key or token').fill(key)
    await page.getByRole('button', { name: 'Connect', exact: true }).click()
    await page.locator('#live-state', { hasText: 'live' }).waitFor()
    await page.locator('#count-refused', { hasText: /^[1-9]/ }).waitFor()
    await page.locator('#connection-state[data-state="connected"]').waitFor()
    assert.ok(urls.length > 0)
    assert.deepEqual(urls.filter((url) => url.includes(key) || url.includes(Buffer.from(key).toString('base64url'))), [])
    assert.deepEqual(foreign, [])
  } finally {
    await screenshot(page, 'console-api-key.png')
  }
})

test('the console fits a phone-width screen without scrolling sideways', async (t) => {
  const server = await startServer(t)
  const { page } = await openConsole(t, server, { width: 390, height: 844 })
  await page.getByRole('button', { name: 'Connect', exact: true }).click()
  await page.locator('#live-state', { hasText: 'live' }).waitFor()
  const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
  assert.equal(overflow, 0)
  await screenshot(page, 'console-phone.png')
})
