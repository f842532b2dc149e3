import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DEFAULTS, SETTINGS } from '../src/config.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const README = join(ROOT, 'README.md')
const DOCS = join(ROOT, 'docs')
const pages = [README, ...readdirSync(DOCS).filter((name) => name.endsWith('.md')).map((name) => join(DOCS, name))]

/** The text outside fenced code blocks, where headings and links mean something. */
function prose(file: string): string {
  return readFileSync(file, 'utf8').replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '')
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to dashes. */
function anchors(file: string): Set<string> {
  const slugs = [...prose(file).matchAll(/^#{1,6} (?<title>.+)$/gm)].map((match) =>
    (match.groups?.title ?? '').toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replaceAll(' ', '-'),
  )
  return new Set(slugs)
}

test('the README stays a short page for newcomers', () => {
  const lines = readFileSync(README, 'utf8').split('\n').length
  assert.ok(lines < 400, `README.md has ${lines} lines; move reference material into docs/`)
  const text = readFileSync(README, 'utf8')
  for (const needed of ['npm install && npm start', 'npm test', 'websocat ws://localhost:8000/ws', '"type":"subscribe"', 'docs/protocol.md']) {
    assert.ok(text.includes(needed), `README.md lacks ${needed}`)
  }
})

test('the README links every page under docs/', () => {
  const text = readFileSync(README, 'utf8')
  for (const page of pages.slice(1)) {
    assert.ok(text.includes(`](${relative(ROOT, page)})`), `README.md does not link ${relative(ROOT, page)}`)
  }
})

test('the README configuration table lists every variable with its default', () => {
  const text = readFileSync(README, 'utf8')
  for (const { option, variable } of SETTINGS) {
    const row = new RegExp(`^\\| \`${variable}\` \\| (?<cell>[^|]+) \\|`, 'm').exec(text)
    assert.ok(row?.groups, `README.md has no configuration row for ${variable}`)
    const value = DEFAULTS[option]
    const expected = value === undefined ? 'unset' : `\`${String(value)}\``
    assert.equal(row.groups.cell?.trim(), expected, `default of ${variable}`)
  }
})

test('every relative link in README.md and docs/ reaches a file and heading that exist', () => {
  let checked = 0
  for (const page of pages) {
    for (const link of prose(page).matchAll(/\]\((?<target>[^)\s]+)\)/g)) {
      const target = link.groups?.target ?? ''
      if (/^[a-z]+:/.test(target)) continue
      const [path = '', anchor] = target.split('#')
      const file = path === '' ? page : join(dirname(page), path)
      const where = `${relative(ROOT, page)} → ${target}`
      assert.ok(existsSync(file), `${where}: no such file`)
      if (anchor !== undefined) assert.ok(anchors(file).has(anchor), `${where}: no such heading`)
      checked++
    }
  }
  assert.ok(checked >= pages.length, `only ${checked} links were checked`)
})
