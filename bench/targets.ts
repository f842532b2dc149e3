import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DialectName } from './lib/dialect.js'

export type TargetName = 'pubsub' | 'ws-corked' | 'ws-plain' | 'socketio'

export type TargetSpec = {
  name: TargetName
  label: string
  command: string[]
  env: Record<string, string>
  dialect: DialectName
}

/** Relative to the working directory (as `dist/main.js` is), so results name no machine's folders. */
const baseline = (file: string, ...args: string[]): string[] =>
  [process.execPath, relative(process.cwd(), fileURLToPath(new URL(`./servers/${file}`, import.meta.url))), ...args]

const PRODUCTION = { NODE_ENV: 'production' }

/** What `npm start` runs once it has compiled (`exec node <flags> dist/main.js`), with this node. */
function startCommand(): string[] {
  const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }
  const [program, ...args] = (scripts.start.split('&&').at(-1) ?? '').trim().replace(/^exec\s+/, '').split(/\s+/)
  if (program !== 'node') throw new Error(`npm start should end with a node command: ${scripts.start}`)
  return [process.execPath, ...args]
}

/** The service as a user runs it (compiled, warn-level logs) and the three baselines. */
export const TARGETS: readonly TargetSpec[] = [
  {
    name: 'pubsub',
    label: 'this service',
    command: startCommand(),
    env: { ...PRODUCTION, LOG_LEVEL: 'warn' },
    dialect: 'pubsub',
  },
  { name: 'ws-corked', label: 'ws, corked (ceiling)', command: baseline('ws-server.js', '--corked'), env: PRODUCTION, dialect: 'pubsub' },
  { name: 'ws-plain', label: 'ws, plain', command: baseline('ws-server.js'), env: PRODUCTION, dialect: 'pubsub' },
  { name: 'socketio', label: 'socket.io rooms', command: baseline('socketio-server.js'), env: PRODUCTION, dialect: 'socketio' },
]

export const CEILING: TargetName = 'ws-corked'
