import { readFileSync, writeFileSync } from 'node:fs'
import { renderChart } from './chart.js'
import type { Summary } from './run.js'

/** `npm run bench:chart [-- quick]`: redraws results/<name>.svg from results/<name>.json without measuring again. */
const name = process.argv[2] ?? 'latest'
const dir = new URL('../../results/', import.meta.url)
const saved = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as { summary: Summary; machine: Parameters<typeof renderChart>[1] }
writeFileSync(new URL(`${name}.svg`, dir), renderChart(saved.summary, saved.machine))
console.log(`wrote bench/results/${name}.svg`)
