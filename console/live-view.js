// The live view: polls /stats with the credential in a header (never in the URL),
// and draws the rates and counts with uPlot, which the page loads as a global.
import { RateHistory, sampleOf } from './rates.js'

const POLL_MS = 1000
const WINDOW_SECONDS = 5 * 60
const MIN_SPAN_SECONDS = 60
const CHART_HEIGHT = 180

/**
 * @typedef {object} LiveElements
 * @property {HTMLOutputElement} state
 * @property {Record<'connections' | 'subscriptions' | 'topics' | 'slowConsumers' | 'refused', HTMLElement>} counts
 * @property {HTMLElement} rateChart
 * @property {HTMLElement} countChart
 * @property {HTMLOutputElement} rateNow
 * @property {HTMLTableSectionElement} topics
 */

/** @param {unknown} value @returns {value is Record<string, unknown>} */
const isRecord = (value) => typeof value === 'object' && value !== null && !Array.isArray(value)

/** @param {string} label @param {string} stroke @returns {uPlot.Series} */
// Points as well as lines: a rate known at one poll only, next to a gap, is still drawn.
const line = (label, stroke) => ({ label, stroke, width: 2, spanGaps: false, points: { show: true, size: 4 } })

/**
 * @param {HTMLElement} into
 * @param {uPlot.Series[]} series
 * @param {string} unit
 */
function createChart(into, series, unit) {
  /** @type {uPlot.Options} */
  const options = {
    width: Math.max(240, into.clientWidth),
    height: CHART_HEIGHT,
    series: [{}, ...series],
    // At least a minute wide, so the first few polls do not stretch across the whole chart.
    scales: {
      x: { time: true, range: (_chart, min, max) => [Math.min(min, max - MIN_SPAN_SECONDS), max] },
      y: { range: (_chart, _min, max) => [0, Math.max(1, max)] },
    },
    // UTC clock times, like the frame log, on one line each.
    axes: [{ values: (_chart, splits) => splits.map(utcTime), space: 70 }, { label: unit, size: 50 }],
    legend: { live: false },
    cursor: { show: false },
  }
  const chart = new uPlot(options, [[], ...series.map(() => [])], into)
  const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(240, into.clientWidth), height: CHART_HEIGHT }))
  resize.observe(into)
  return {
    /** @param {uPlot.AlignedData} data */
    draw: (data) => chart.setData(data),
    remove: () => {
      resize.disconnect()
      chart.destroy()
    },
  }
}

/** @param {unknown} body @param {HTMLTableSectionElement} into */
function showTopics(body, into) {
  const topics = isRecord(body) && isRecord(body.topics) ? Object.entries(body.topics) : []
  into.replaceChildren(
    ...topics.map(([name, topic]) => {
      const row = document.createElement('tr')
      for (const cell of [name, isRecord(topic) ? topic.subscribers : '', isRecord(topic) ? topic.messages : '']) {
        const td = document.createElement('td')
        td.textContent = String(cell ?? '')
        row.append(td)
      }
      return row
    }),
  )
}

/** @param {number} seconds */
const utcTime = (seconds) => new Date(seconds * 1000).toISOString().slice(11, 19)

/** @param {number | null | undefined} rate */
const perSecond = (rate) => (rate == null ? '–' : rate.toFixed(1))

/**
 * Starts polling; the returned function stops it.
 * @param {string} credential
 * @param {LiveElements} elements
 * @returns {() => void}
 */
export function startLiveView(credential, elements) {
  const history = new RateHistory(WINDOW_SECONDS)
  const rates = createChart(elements.rateChart, [line('publishes/s', '#1f6feb'), line('deliveries/s', '#d9480f')], 'per second')
  const counts = createChart(elements.countChart, [line('connections', '#2f9e44'), line('subscriptions', '#7048e8')], 'count')
  /** @type {HeadersInit} */
  const headers = credential === '' ? {} : { Authorization: `Bearer ${credential}` }
  let stopped = false
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer

  const poll = async () => {
    try {
      const res = await fetch('/stats', { headers, cache: 'no-store' })
      if (stopped) return
      if (res.status === 401) elements.state.value = 'refused: /stats needs a valid API key or token'
      else if (res.status === 403) elements.state.value = 'this credential may not read /stats'
      else if (!res.ok) elements.state.value = `/stats answered ${res.status}`
      else show(await res.json())
    } catch (error) {
      if (!stopped) elements.state.value = `cannot reach /stats: ${error instanceof Error ? error.message : String(error)}`
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS)
  }

  /** @param {unknown} body */
  const show = (body) => {
    const sample = sampleOf(body)
    if (sample === undefined) {
      elements.state.value = '/stats answered without the counts the live view needs'
      return
    }
    elements.state.value = `live, updated ${utcTime(Date.now() / 1000)} UTC`
    history.add(Date.now() / 1000, sample)
    const stats = isRecord(body) ? body : {}
    elements.counts.connections.textContent = String(sample.connections)
    elements.counts.subscriptions.textContent = String(sample.subscriptions)
    elements.counts.topics.textContent = String(isRecord(stats.topics) ? Object.keys(stats.topics).length : '–')
    elements.counts.slowConsumers.textContent = String(stats.slow_consumers ?? '–')
    elements.counts.refused.textContent = String(stats.connections_refused ?? '–')
    showTopics(body, elements.topics)
    rates.draw([history.times, history.published, history.delivered])
    counts.draw([history.times, history.connections, history.subscriptions])
    elements.rateNow.value = `now: ${perSecond(history.published.at(-1))} publishes/s, ${perSecond(history.delivered.at(-1))} deliveries/s`
  }

  elements.state.value = 'starting'
  void poll()
  return () => {
    stopped = true
    clearTimeout(timer)
    rates.remove()
    counts.remove()
    elements.state.value = 'stopped'
  }
}
