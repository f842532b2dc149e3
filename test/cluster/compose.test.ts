import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parse } from 'yaml'
import { optionsFromEnv, SETTINGS } from '../../src/config.js'
import { PROJECT_ROOT } from '../child.js'

/**
 * The cluster's compose example, read as Docker Compose reads it (anchors and
 * merge keys resolved). `docker-compose config -q` in CI checks its syntax;
 * these check that it describes a cluster worth copying.
 */

type Service = {
  image?: string
  command?: string[]
  environment?: Record<string, string>
  depends_on?: Record<string, { condition?: string }>
  healthcheck?: { test?: string[] }
  ports?: string[]
}

const compose = parse(readFileSync(`${PROJECT_ROOT}/docker-compose.cluster.yml`, 'utf8'), { merge: true }) as { services: Record<string, Service> }
const services = Object.entries(compose.services)
const nodes = services.filter(([, service]) => service.image?.startsWith('pubsub-server'))
const redis = compose.services.redis

/** The value after a flag in redis-server's command line. */
const flag = (name: string): string | undefined => {
  const command = redis?.command ?? []
  const at = command.indexOf(`--${name}`)
  return at === -1 ? undefined : command[at + 1]
}

test('the cluster example runs two or more nodes, each on its own host port', () => {
  assert.ok(nodes.length >= 2, `nodes: ${nodes.map(([name]) => name).join(', ')}`)
  const hostPorts = nodes.map(([, node]) => node.ports?.[0]?.split(':')[0])
  assert.equal(new Set(hostPorts).size, nodes.length, `host ports: ${hostPorts.join(', ')}`)
})

test('every node points at the same Redis database and prefix, and waits until Redis is healthy', () => {
  for (const [name, node] of nodes) {
    assert.equal(node.environment?.REDIS_URL, 'redis://redis:6379/0', name)
    assert.equal(node.environment?.REDIS_PREFIX, 'pubsub', name)
    assert.equal(node.depends_on?.redis?.condition, 'service_healthy', name)
    assert.ok(node.healthcheck?.test?.some((part) => part.includes('/health')), `${name} has no /health check`)
  }
  assert.deepEqual(redis?.healthcheck?.test, ['CMD', 'redis-cli', 'ping'])
})

test('every node sets only variables the server reads, each to a value it accepts, the same on every node', () => {
  const known = new Set([...SETTINGS.map((s) => s.variable), 'REDIS_URL', 'REDIS_PREFIX'])
  const [, first] = nodes[0] as [string, Service]
  for (const [name, node] of nodes) {
    const env = node.environment ?? {}
    for (const variable of Object.keys(env)) assert.ok(known.has(variable), `${name} sets ${variable}, which the server does not read`)
    const parsed = optionsFromEnv({ ...env, API_KEY: '' })
    assert.ok(!('problems' in parsed), `${name}: ${'problems' in parsed ? parsed.problems.join('; ') : ''}`)
    assert.deepEqual(env, first.environment, `${name} differs from the first node`)
  }
})

test('Redis keeps an append-only file, never evicts, and allows its subscribers a larger output buffer', () => {
  assert.equal(flag('appendonly'), 'yes')
  assert.equal(flag('maxmemory-policy'), 'noeviction')
  const limit = /^pubsub (\d+)mb (\d+)mb (\d+)$/.exec(flag('client-output-buffer-limit') ?? '')
  assert.ok(limit, `client-output-buffer-limit: ${flag('client-output-buffer-limit')}`)
  // Redis's default for pubsub clients is 32mb hard, 8mb soft over 60 s.
  assert.ok(Number(limit[1]) > 32 && Number(limit[2]) > 8, `not above Redis's default: ${limit[0]}`)
})
