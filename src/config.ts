import type { LogLevel } from './log.js'

/** Server options; each mirrors one environment variable. */
export type Options = {
  port: number
  host: string
  logLevel: LogLevel
  maxHistoryPerTopic: number
  apiKey: string | undefined
  /** A JSON file of API keys (as SHA-256 hashes) and JWT keys; see docs/auth.md. */
  authFile: string | undefined
  heartbeatIntervalMs: number
  shutdownTimeoutMs: number
  maxPayloadBytes: number
  maxBufferedBytes: number
  maxTopics: number
  maxSubscriptionsPerConnection: number
  /** Set: this server is one node of a cluster sharing this Redis database. */
  redisUrl: string | undefined
  /** The start of every Redis key and channel of this cluster. */
  redisPrefix: string
}

export const DEFAULTS: Readonly<Options> = {
  port: 8000,
  host: '0.0.0.0',
  logLevel: 'info',
  maxHistoryPerTopic: 50,
  apiKey: undefined,
  authFile: undefined,
  heartbeatIntervalMs: 30_000,
  shutdownTimeoutMs: 5_000,
  maxPayloadBytes: 1_048_576,
  maxBufferedBytes: 1_048_576,
  maxTopics: 10_000,
  maxSubscriptionsPerConnection: 1_000,
  redisUrl: undefined,
  redisPrefix: 'pubsub',
}

/** How one option is read from its variable and checked once typed. */
type Setting = {
  option: keyof Options
  variable: string
  /** What the value accepts, in words; used for both env and library errors. */
  accepts: string
  parse(text: string): unknown
  isValid(value: unknown): boolean
  /** May hold a secret (a key, a password in a URL): never echoed in an error. */
  secret?: boolean
}

const LEVEL_ALIASES: Record<string, LogLevel> = { debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', error: 'error' }

const parseInteger = (text: string): number => (/^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN)

function integer(option: keyof Options, variable: string, min: number, max = Number.MAX_SAFE_INTEGER): Setting {
  const accepts = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`
  return {
    option,
    variable,
    accepts,
    parse: parseInteger,
    isValid: (value) => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max,
  }
}

export const SETTINGS: readonly Setting[] = [
  integer('port', 'PORT', 0, 65_535),
  {
    option: 'host',
    variable: 'HOST',
    accepts: 'a non-empty host name or IP address',
    parse: (text) => text.trim(),
    isValid: (value) => typeof value === 'string' && value.length > 0,
  },
  {
    option: 'logLevel',
    variable: 'LOG_LEVEL',
    accepts: 'one of debug, info, warn (or warning), error',
    parse: (text) => LEVEL_ALIASES[text.trim().toLowerCase()],
    isValid: (value) => typeof value === 'string' && Object.values(LEVEL_ALIASES).includes(value as LogLevel),
  },
  integer('maxHistoryPerTopic', 'MAX_HISTORY_PER_TOPIC', 0, 1_000_000),
  {
    option: 'apiKey',
    variable: 'API_KEY',
    accepts: 'a non-empty string (unset or empty disables authentication)',
    secret: true,
    // An empty variable means "unset", as docker-compose writes `API_KEY=` for an unset key.
    parse: (text) => (text === '' ? undefined : text),
    isValid: (value) => value === undefined || (typeof value === 'string' && value.length > 0),
  },
  {
    option: 'authFile',
    variable: 'AUTH_FILE',
    accepts: 'the path of a JSON credentials file (unset or empty: none)',
    parse: (text) => (text.trim() === '' ? undefined : text.trim()),
    isValid: (value) => value === undefined || (typeof value === 'string' && value.length > 0),
  },
  integer('heartbeatIntervalMs', 'HEARTBEAT_INTERVAL_MS', 10, 2_147_483_647),
  integer('shutdownTimeoutMs', 'SHUTDOWN_TIMEOUT_MS', 0, 2_147_483_647),
  integer('maxPayloadBytes', 'MAX_PAYLOAD_BYTES', 1_024),
  integer('maxBufferedBytes', 'MAX_BUFFERED_BYTES', 1_024),
  integer('maxTopics', 'MAX_TOPICS', 1),
  integer('maxSubscriptionsPerConnection', 'MAX_SUBSCRIPTIONS_PER_CONNECTION', 1),
  {
    option: 'redisUrl',
    variable: 'REDIS_URL',
    accepts: 'a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0 (unset or empty: no cluster)',
    secret: true,
    parse: (text) => (text.trim() === '' ? undefined : text.trim()),
    isValid: (value) => value === undefined || isRedisUrl(value),
  },
  {
    option: 'redisPrefix',
    variable: 'REDIS_PREFIX',
    accepts: '1-64 characters of A-Z a-z 0-9 . _ : -',
    parse: (text) => text.trim(),
    isValid: (value) => typeof value === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(value),
  },
]

function isRedisUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false
  try {
    const url = new URL(value)
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== ''
  } catch {
    return false
  }
}

export type Env = Record<string, string | undefined>

/** Reads every variable; a bad one becomes one line naming it and what it accepts. */
export function optionsFromEnv(env: Env): { options: Options } | { problems: string[] } {
  const options: Record<string, unknown> = { ...DEFAULTS }
  const problems: string[] = []
  for (const setting of SETTINGS) {
    const text = env[setting.variable]
    if (text === undefined) continue
    const value = setting.parse(text)
    if (setting.isValid(value)) options[setting.option] = value
    else problems.push(`${setting.variable} must be ${setting.accepts}, got ${setting.secret === true ? 'an invalid value' : JSON.stringify(text)}`)
  }
  return problems.length > 0 ? { problems } : { options: options as Options }
}

/** Fills in defaults and throws a TypeError naming the first bad option. */
export function resolveOptions(given: Partial<Options>): Options {
  const options: Record<string, unknown> = { ...DEFAULTS }
  for (const setting of SETTINGS) {
    const value = given[setting.option]
    if (value === undefined) continue
    if (!setting.isValid(value)) {
      const shown = setting.secret === true ? 'an invalid value' : `\`${String(value)}\``
      throw new TypeError(`Expected \`${setting.option}\` to be ${setting.accepts}, got ${shown}`)
    }
    options[setting.option] = value
  }
  return options as Options
}
