import { fmt } from './lib/format.js'
import type { Summary } from './run.js'
import type { TargetName } from './targets.js'

/** A hand-written SVG of the comparison, so docs/performance.md can show it without a charting library. */

type Bar = { target: TargetName; value: number; text: string }
type Group = { name: string; bars: Bar[] }
type Machine = { cores: number; cpu: string; node: string; date: string; loadBefore: number[] }

const COLORS: Record<TargetName, string> = {
  pubsub: '#2563eb',
  'ws-corked': '#64748b',
  'ws-plain': '#cbd5e1',
  socketio: '#f59e0b',
  'cluster-1': '#16a34a',
  'cluster-2': '#4ade80',
  'cluster-3': '#bbf7d0',
  'cluster-3-by-topic': '#a78bfa',
  reference: '#93c5fd',
  'reference-cluster-1': '#fca5a5',
  'reference-cluster-3': '#fecaca',
}
const LABELS: Record<TargetName, string> = {
  pubsub: 'this service',
  'ws-corked': 'ws, corked (ceiling)',
  'ws-plain': 'ws, plain',
  socketio: 'socket.io rooms',
  'cluster-1': 'cluster, 1 node',
  'cluster-2': 'cluster, 2 nodes',
  'cluster-3': 'cluster, 3 nodes',
  'cluster-3-by-topic': 'cluster, 3 nodes, by topic',
  reference: 'reference build',
  'reference-cluster-1': 'reference, 1 node',
  'reference-cluster-3': 'reference, 3 nodes',
}
/** Legend entries per row: more would run past the chart's width. */
const LEGEND_PER_ROW = 5

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const compact = (n: number): string => (n >= 1e6 ? `${fmt(n / 1e6, 2)}M` : n >= 1e3 ? `${fmt(n / 1e3, 0)}k` : fmt(n))

function panel(title: string, note: string, groups: Group[], x: number, y: number, width: number, height: number): string {
  const out: string[] = [
    `<text x="${x}" y="${y}" class="title">${escape(title)}</text>`,
    `<text x="${x}" y="${y + 16}" class="foot">${escape(note)}</text>`,
  ]
  const top = y + 34
  const max = Math.max(...groups.flatMap((g) => g.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0))), 1e-9)
  const groupWidth = width / Math.max(groups.length, 1)
  const barArea = height - 40
  groups.forEach((group, gi) => {
    const barWidth = Math.min(44, (groupWidth - 20) / Math.max(group.bars.length, 1))
    const left = x + gi * groupWidth + (groupWidth - barWidth * group.bars.length) / 2
    group.bars.forEach((bar, bi) => {
      const value = Number.isFinite(bar.value) ? bar.value : 0
      const h = (value / max) * barArea
      const bx = left + bi * barWidth
      const by = top + barArea - h
      out.push(`<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[bar.target]}"/>`)
      out.push(`<text x="${(bx + (barWidth - 4) / 2).toFixed(1)}" y="${(by - 4).toFixed(1)}" class="value">${escape(bar.text)}</text>`)
    })
    out.push(`<text x="${(x + gi * groupWidth + groupWidth / 2).toFixed(1)}" y="${top + barArea + 18}" class="group">${escape(group.name)}</text>`)
  })
  out.push(`<line x1="${x}" y1="${top + barArea}" x2="${x + width}" y2="${top + barArea}" stroke="#94a3b8"/>`)
  return out.join('\n')
}

export function renderChart(summary: Summary, machine: Machine): string {
  const width = 980
  const height = 470
  const throughput = (name: string, rows: Summary['fanout']): Group => ({
    name,
    bars: rows.map((r) => ({ target: r.target, value: r.deliveriesPerSec, text: compact(r.deliveriesPerSec) })),
  })
  const cpu = (name: string, rows: Summary['fanout']): Group => ({
    name,
    bars: rows.map((r) => ({ target: r.target, value: r.cpuMicrosPerDelivery, text: fmt(r.cpuMicrosPerDelivery, r.cpuMicrosPerDelivery >= 1 ? 1 : 2) })),
  })
  const memory: Group = {
    name: `${fmt(Number(summary.connections[0]?.connections ?? 0))} idle subscribers`,
    bars: summary.connections.map((r) => ({ target: r.target as TargetName, value: Number(r.rssPerConnection) / 1024, text: fmt(Number(r.rssPerConnection) / 1024, 1) })),
  }
  // Only the targets this run measured, in the order of the colours.
  const measured = new Set<string>([...summary.fanout, ...summary.topics, ...summary.connections].map((r) => String(r.target)))
  const legend = (Object.keys(COLORS) as TargetName[]).filter((t) => measured.has(t)).map((t, i) => {
    const x = 20 + (i % LEGEND_PER_ROW) * 190
    const y = height - 72 - (Math.ceil(measured.size / LEGEND_PER_ROW) - 1 - Math.floor(i / LEGEND_PER_ROW)) * 18
    return `<rect x="${x}" y="${y}" width="12" height="12" fill="${COLORS[t]}"/><text x="${x + 18}" y="${y + 10}" class="legend">${escape(LABELS[t])}</text>`
  })
  const footer = [
    `${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.date.slice(0, 10)}; medians of every run; server and load generator share the cores.`,
    `Load average from other work on the machine at the start: ${machine.loadBefore.map((l) => l.toFixed(2)).join(' ')}. Compare ratios within one run, not absolute figures.`,
  ]
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    '<style>.title{font-size:14px;font-weight:600;fill:#0f172a}.value{font-size:9px;text-anchor:middle;fill:#334155}.group{font-size:12px;text-anchor:middle;fill:#334155}.legend{font-size:12px;fill:#334155}.foot{font-size:11px;fill:#64748b}</style>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    panel('Deliveries per second', 'higher is better', [throughput('fanout 1×1,000', summary.fanout), throughput('topics 100×10', summary.topics)], 20, 30, 360, 330),
    panel('Server CPU µs per delivery', 'lower is better', [cpu('fanout', summary.fanout), cpu('topics', summary.topics)], 410, 30, 340, 330),
    panel('KiB RSS per connection', 'lower is better', [memory], 780, 30, 180, 330),
    ...legend,
    ...footer.map((line, i) => `<text x="20" y="${height - 34 + i * 16}" class="foot">${escape(line)}</text>`),
    '</svg>',
    '',
  ].join('\n')
}
