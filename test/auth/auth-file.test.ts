import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadAuthFile } from '../../src/auth/auth-file.js'
import { runNode } from '../child.js'
import { within } from '../helpers.js'
import { authFixture, keyEntries, KEYS, SECRET_ENV, sha256Hex, type AuthJson, type Fixture } from '../support/auth-fixture.js'

/** The problem reported for `file` written as AUTH_FILE. */
async function problemOf(fixture: Fixture, file: AuthJson | string, env = fixture.env): Promise<string> {
  await writeFile(fixture.path, typeof file === 'string' ? file : JSON.stringify(file))
  const loaded = await loadAuthFile(fixture.path, env)
  assert.ok(!loaded.ok, 'the file should be refused')
  assert.ok(!loaded.problem.includes('\n'), 'one line')
  return loaded.problem
}

const withJwtKeys = (fixture: Fixture, keys: unknown[]): AuthJson => ({ ...fixture.file, jwt: { ...fixture.file.jwt, keys } })

test('the fixture file loads: keys and JWT keys', async (t) => {
  const fixture = await authFixture(t)
  const loaded = await loadAuthFile(fixture.path, fixture.env)
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.problem)
  assert.equal(loaded.policy.keys.length, 3)
  assert.deepEqual([...(loaded.policy.jwt?.keys.keys() ?? [])], ['hs-1', 'es-1', 'rs-1'])
})

test('each bad entry is named with what is wrong, in one line', async (t) => {
  const fixture = await authFixture(t)
  const [admin, metrics, client] = keyEntries() as Record<string, unknown>[]
  const cases: [AuthJson | string, RegExp][] = [
    ['{not json', /is not valid JSON/],
    [{ keys: [admin, { ...metrics, role: 'superuser' }] }, /keys\[1\] \(id "prometheus"\): unknown role "superuser"; use admin, metrics, client/],
    [{ keys: [{ ...client, publish: ['orders.>.x'] }] }, /keys\[0\] \(id "orders-svc"\): publish\[0\] "orders\.>\.x" has '>' before its last token/],
    [{ keys: [{ ...client, subscribe: ['orders', 'ord*'] }] }, /keys\[0\] \(id "orders-svc"\): subscribe\[1\] "ord\*" has the token/],
    [{ keys: [admin, { ...admin, sha256: sha256Hex('other') }] }, /keys\[1\] \(id "ops"\): duplicate id/],
    [{ keys: [admin, { ...metrics, sha256: sha256Hex(KEYS.admin) }] }, /keys\[1\] \(id "prometheus"\): the same sha256 as an earlier key/],
    [{ keys: [{ ...admin, sha256: 'abc' }] }, /keys\[0\] \(id "ops"\): "sha256" must be the key's SHA-256 as 64 hex digits/],
    [{ keys: [{ ...admin, subscribe: ['x'] }] }, /only client keys take publish and subscribe/],
    [{ keys: [{ ...client, subcribe: ['x'] }] }, /keys\[0\] \(id "orders-svc"\): unknown field "subcribe"/],
    [withJwtKeys(fixture, [{ kid: 'a', alg: 'HS256', secret_env: SECRET_ENV }, { kid: 'a', alg: 'HS256', secret_env: SECRET_ENV }]), /jwt\.keys\[1\] \(kid "a"\): duplicate kid/],
    [withJwtKeys(fixture, [{ kid: 'n', alg: 'none', secret_env: SECRET_ENV }]), /jwt\.keys\[0\] \(kid "n"\): "alg" must be one of HS256/],
    [withJwtKeys(fixture, [{ kid: 'm', alg: 'HS256', secret_env: 'NOT_SET_ANYWHERE' }]), /jwt\.keys\[0\] \(kid "m"\): the variable NOT_SET_ANYWHERE is not set/],
    [withJwtKeys(fixture, [{ kid: 'e', alg: 'ES256', public_key_file: join(fixture.dir, 'missing.pem') }]), /jwt\.keys\[0\] \(kid "e"\): cannot read public_key_file .*missing\.pem" \(ENOENT\)/],
    [withJwtKeys(fixture, [{ kid: 'e', alg: 'ES256', public_key_file: join(fixture.dir, 'rs256.pem') }]), /jwt\.keys\[0\] \(kid "e"\): public_key_file .* is not a PEM public key for ES256/],
    [withJwtKeys(fixture, [{ kid: 'e', alg: 'ES256', secret_env: SECRET_ENV }]), /ES256 takes "public_key_file"/],
    [{ jwt: { keys: [] } }, /jwt\.keys: must be a non-empty array/],
    [{ jwt: { ...fixture.file.jwt, clock_tolerance_sec: -1 } }, /jwt\.clock_tolerance_sec: must be an integer from 0 to 600/],
  ]
  for (const [file, expected] of cases) {
    const problem = await problemOf(fixture, file)
    assert.ok(problem.startsWith(`AUTH_FILE ${fixture.path}: `), problem)
    assert.match(problem, expected)
  }
})

test('an HMAC secret shorter than its hash is refused, naming the variable but not the secret', async (t) => {
  const fixture = await authFixture(t)
  const short = 'thirty-one-bytes-is-not-enough!'
  assert.equal(Buffer.byteLength(short), 31)
  const problem = await problemOf(fixture, fixture.file, { [SECRET_ENV]: short })
  assert.match(problem, /jwt\.keys\[0\] \(kid "hs-1"\): the secret in PUBSUB_TEST_JWT_SECRET is under 32 bytes, too short for HS256/)
  assert.ok(!problem.includes(short))
})

test('an unreadable AUTH_FILE is refused with the reason', async (t) => {
  const fixture = await authFixture(t)
  const loaded = await loadAuthFile(join(fixture.dir, 'nope.json'), {})
  assert.ok(!loaded.ok)
  assert.match(loaded.problem, /nope\.json: cannot be read \(ENOENT\)$/)
})

test('the CLI refuses a bad AUTH_FILE with exit code 1 and one line naming the entry', async (t) => {
  const fixture = await authFixture(t)
  const [admin] = keyEntries() as Record<string, unknown>[]
  await fixture.write({ keys: [{ ...admin, role: 'root' }] })
  const run = runNode(t, { env: { AUTH_FILE: fixture.path, PORT: '0', HOST: '127.0.0.1' } })
  const { code } = await within(run.exited, 'the CLI to exit', 15_000)
  assert.equal(code, 1)
  assert.deepEqual(run.stderr, [`invalid configuration: AUTH_FILE ${fixture.path}: keys[0] (id "ops"): unknown role "root"; use admin, metrics, client`])
})
