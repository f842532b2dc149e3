import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULTS, optionsFromEnv, resolveOptions } from '../src/config.js'

test('an empty environment gives the documented defaults', () => {
  assert.deepEqual(optionsFromEnv({}), { options: DEFAULTS })
  assert.equal(DEFAULTS.port, 8000)
  assert.equal(DEFAULTS.host, '0.0.0.0')
  assert.equal(DEFAULTS.maxHistoryPerTopic, 50)
})

test('every variable is read into its option', () => {
  const parsed = optionsFromEnv({
    PORT: '9000', HOST: '127.0.0.1', LOG_LEVEL: 'WARNING', MAX_HISTORY_PER_TOPIC: '0', API_KEY: 's3cret',
    HEARTBEAT_INTERVAL_MS: '1000', SHUTDOWN_TIMEOUT_MS: '0', MAX_PAYLOAD_BYTES: '2048', MAX_BUFFERED_BYTES: '4096',
    MAX_TOPICS: '5', MAX_SUBSCRIPTIONS_PER_CONNECTION: '6', REDIS_URL: 'redis://10.0.0.5:6380/2', REDIS_PREFIX: 'ps.eu',
    AUTH_FILE: '/etc/pubsub/auth.json',
  })
  assert.deepEqual(parsed, {
    options: {
      port: 9000, host: '127.0.0.1', logLevel: 'warn', maxHistoryPerTopic: 0, apiKey: 's3cret',
      heartbeatIntervalMs: 1000, shutdownTimeoutMs: 0, maxPayloadBytes: 2048, maxBufferedBytes: 4096,
      maxTopics: 5, maxSubscriptionsPerConnection: 6, redisUrl: 'redis://10.0.0.5:6380/2', redisPrefix: 'ps.eu',
      authFile: '/etc/pubsub/auth.json',
    },
  })
})

test('an empty API_KEY leaves authentication off', () => {
  assert.deepEqual(optionsFromEnv({ API_KEY: '' }), { options: DEFAULTS })
})

const bad: [string, string, string][] = [
  ['PORT', '70000', 'PORT must be an integer from 0 to 65535, got "70000"'],
  ['PORT', 'eighty', 'PORT must be an integer from 0 to 65535, got "eighty"'],
  ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of debug, info, warn (or warning), error, got "loud"'],
  ['MAX_HISTORY_PER_TOPIC', '-1', 'MAX_HISTORY_PER_TOPIC must be an integer from 0 to 1000000, got "-1"'],
  ['HEARTBEAT_INTERVAL_MS', '1.5', 'HEARTBEAT_INTERVAL_MS must be an integer from 10 to 2147483647, got "1.5"'],
  ['MAX_PAYLOAD_BYTES', '', 'MAX_PAYLOAD_BYTES must be an integer >= 1024, got ""'],
  ['MAX_BUFFERED_BYTES', '1e6', 'MAX_BUFFERED_BYTES must be an integer >= 1024, got "1e6"'],
  ['HOST', ' ', 'HOST must be a non-empty host name or IP address, got " "'],
  // A Redis URL may carry a password: a bad one is never echoed.
  ['REDIS_URL', 'http://:hunter2@cache:6379', 'REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0 (unset or empty: no cluster), got an invalid value'],
  ['REDIS_PREFIX', 'a{b}', 'REDIS_PREFIX must be 1-64 characters of A-Z a-z 0-9 . _ : -, got "a{b}"'],
]

for (const [variable, value, line] of bad) {
  test(`${variable}=${JSON.stringify(value)} is refused with a line naming it`, () => {
    assert.deepEqual(optionsFromEnv({ [variable]: value }), { problems: [line] })
  })
}

test('every bad variable is reported, one line each', () => {
  const parsed = optionsFromEnv({ PORT: 'x', SHUTDOWN_TIMEOUT_MS: 'y' })
  assert.ok('problems' in parsed)
  assert.equal(parsed.problems.length, 2)
})

test('library options are checked with a TypeError that names the option and echoes the value', () => {
  assert.throws(() => resolveOptions({ maxHistoryPerTopic: -1 }), {
    name: 'TypeError',
    message: 'Expected `maxHistoryPerTopic` to be an integer from 0 to 1000000, got `-1`',
  })
  assert.throws(() => resolveOptions({ logLevel: 'loud' as never }), /`logLevel`/)
})

test('a bad API key option is refused without echoing it', () => {
  assert.throws(() => resolveOptions({ apiKey: '' }), (error: Error) => !error.message.includes('``') && /apiKey/.test(error.message))
})
