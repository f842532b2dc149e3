import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLogger } from '../src/log.js'

const collect = (level: Parameters<typeof createLogger>[0]) => {
  const lines: Record<string, unknown>[] = []
  return { log: createLogger(level, (line) => lines.push(JSON.parse(line))), lines }
}

test('each call writes one JSON line with ts, level, msg and fields', () => {
  const { log, lines } = collect('debug')
  log.info('hello', { topic: 'orders', count: 2 })
  assert.equal(lines.length, 1)
  assert.match(String(lines[0]?.ts), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  assert.deepEqual({ ...lines[0], ts: undefined }, { ts: undefined, level: 'info', msg: 'hello', topic: 'orders', count: 2 })
})

test('calls below the level are dropped', () => {
  const { log, lines } = collect('warn')
  log.debug('d')
  log.info('i')
  log.warn('w')
  log.error('e')
  assert.deepEqual(lines.map((l) => l.level), ['warn', 'error'])
})

test('an error field keeps its message and stack', () => {
  const { log, lines } = collect('info')
  log.error('failed', { error: new Error('boom') })
  const error = lines[0]?.error as { message: string; stack: string }
  assert.equal(error.message, 'boom')
  assert.match(error.stack, /^Error: boom\n\s+at /)
})

test('a child logger adds its fields to every line', () => {
  const { log, lines } = collect('info')
  log.child({ connection: 'c-1' }).warn('slow', { topics: ['a'] })
  assert.deepEqual({ ...lines[0], ts: undefined }, { ts: undefined, level: 'warn', msg: 'slow', connection: 'c-1', topics: ['a'] })
})
