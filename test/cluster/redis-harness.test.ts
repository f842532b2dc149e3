import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { test } from 'node:test'
import { within } from '../helpers.js'
import { startRedisServer } from '../support/redis-server.js'

/**
 * The private redis-server the cluster tests, the soak and the benchmark start:
 * it must really run where it says, really persist only when asked, and come
 * back on the same port after a crash.
 */

/** Sends one inline command and resolves with the raw reply. */
function command(port: number, line: string): Promise<string> {
  return within(new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let reply = ''
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      // Every reply used here is one line, or a bulk string's header line and its value line.
      if (reply.endsWith('\r\n') && !/^\$\d+\r\n$/.test(reply)) socket.end(() => resolve(reply))
    })
    socket.once('error', reject)
    socket.write(`${line}\r\n`)
  }), `redis reply to '${line}'`)
}

const exited = (pid: number): boolean => {
  try {
    readFileSync(`/proc/${pid}/stat`)
    return false
  } catch {
    return true
  }
}

test('the harness starts a redis-server on its own port and stops it', async (t) => {
  const redis = await startRedisServer()
  t.after(() => redis.stop())
  assert.equal(redis.url, `redis://127.0.0.1:${redis.port}/0`)
  assert.equal(await command(redis.port, 'PING'), '+PONG\r\n')
  assert.match(await command(redis.port, 'CONFIG GET appendonly'), /appendonly\r\n\$2\r\nno/)
  const pid = redis.pid
  await redis.stop()
  assert.ok(exited(pid), 'redis-server still runs after stop()')
})

test('with appendOnly, what was written survives a kill -9 and a restart on the same port', async (t) => {
  const redis = await startRedisServer({ appendOnly: true })
  t.after(() => redis.stop())
  assert.equal(await command(redis.port, 'SET kept yes'), '+OK\r\n')
  const before = redis.pid
  await redis.restart()
  assert.notEqual(redis.pid, before)
  assert.equal(await command(redis.port, 'GET kept'), '$3\r\nyes\r\n')
})

test('without appendOnly, a restart starts empty', async (t) => {
  const redis = await startRedisServer()
  t.after(() => redis.stop())
  assert.equal(await command(redis.port, 'SET lost yes'), '+OK\r\n')
  await redis.kill()
  await redis.restart()
  assert.equal(await command(redis.port, 'GET lost'), '$-1\r\n')
})

test('extra arguments reach redis-server', async (t) => {
  const redis = await startRedisServer({ args: ['--client-output-buffer-limit', 'pubsub 64kb 32kb 1'] })
  t.after(() => redis.stop())
  assert.match(await command(redis.port, 'CONFIG GET client-output-buffer-limit'), /pubsub 65536 32768 1/)
})
