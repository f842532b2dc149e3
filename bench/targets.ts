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

/** The service as a user runs it (compiled, warn-level logs) and the three baselines. */
export const TARGETS: readonly TargetSpec[] = [
  {
    name: 'pubsub',
    label: 'this service',
    command: [process.execPath, 'dist/main.js'],
    env: { ...PRODUCTION, LOG_LEVEL: 'warn' },
    dialect: 'pubsub',
  },
  { name: 'ws-corked', label: 'ws, corked (ceiling)', command: baseline('ws-server.js', '--corked'), env: PRODUCTION, dialect: 'pubsub' },
  { name: 'ws-plain', label: 'ws, plain', command: baseline('ws-server.js'), env: PRODUCTION, dialect: 'pubsub' },
  { name: 'socketio', label: 'socket.io rooms', command: baseline('socketio-server.js'), env: PRODUCTION, dialect: 'socketio' },
]

export const CEILING: TargetName = 'ws-corked'
