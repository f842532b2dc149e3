import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { request, startServer, type TestServer } from '../helpers.js'
import { authFixture, hsToken, HS_SECRET, KEYS, nowSec, rawToken, AUDIENCE, ISSUER, type Fixture } from '../support/auth-fixture.js'

const TOLERANCE_SEC = 10
const READ_ORDERS = { subscribe: ['orders.*'] }

/** A server whose tokens use a 10 s tolerance, with the topic orders.eu. */
async function tokenServer(t: TestContext): Promise<{ server: TestServer; fixture: Fixture }> {
  const fixture = await authFixture(t, TOLERANCE_SEC)
  const server = await startServer(t, { authFile: fixture.path, env: fixture.env })
  assert.equal((await request(server.url, 'POST', '/topics', { name: 'orders.eu' }, { 'X-API-Key': KEYS.admin })).status, 201)
  return { server, fixture }
}

/** Reads orders.eu's history with the token: 200, or the 401 and the reason it gives. */
async function readWith(server: TestServer, token: string): Promise<{ status: number; detail?: string }> {
  const res = await request(server.url, 'GET', '/topics/orders.eu/messages', undefined, { Authorization: `Bearer ${token}` })
  return { status: res.status, detail: (res.body as { detail?: string } | undefined)?.detail }
}

async function assertRefused(server: TestServer, token: string, reason: RegExp, what: string): Promise<void> {
  const answer = await readWith(server, token)
  assert.equal(answer.status, 401, what)
  assert.match(answer.detail ?? '', reason, what)
}

test('a valid HS256 or ES256 token is accepted, and grants only its pubsub claim', async (t) => {
  const { server, fixture } = await tokenServer(t)
  assert.equal((await readWith(server, await hsToken({ pubsub: READ_ORDERS }))).status, 200)
  const es = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'bob', exp: nowSec() + 60, pubsub: READ_ORDERS })
    .setProtectedHeader({ alg: 'ES256', kid: 'es-1' })
    .sign(fixture.es.privateKey)
  assert.equal((await readWith(server, es)).status, 200)
  // No pubsub claim: no grants, so a valid token is refused 403, not 401.
  assert.equal((await readWith(server, await hsToken())).status, 403)
  const publish = await request(server.url, 'POST', '/topics/orders.eu/messages', { payload: 1 }, { Authorization: `Bearer ${await hsToken({ pubsub: READ_ORDERS })}` })
  assert.equal(publish.status, 403)
})

test('alg none is refused in every spelling', async (t) => {
  const { server } = await tokenServer(t)
  const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'alice', exp: nowSec() + 60, pubsub: READ_ORDERS }
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    await assertRefused(server, rawToken({ alg, kid: 'hs-1' }, payload), /not signed with HS256/, `alg ${alg}`)
    await assertRefused(server, rawToken({ alg, kid: 'hs-1' }, payload, 'c2ln'), /not signed with HS256/, `alg ${alg} with a signature`)
    await assertRefused(server, rawToken({ alg }, payload), /no known key/, `alg ${alg} without kid`)
  }
})

test('HS256 signed with an RSA public key as the secret is refused (algorithm confusion)', async (t) => {
  const { server, fixture } = await tokenServer(t)
  const forged = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', exp: nowSec() + 60, pubsub: READ_ORDERS })
    .setProtectedHeader({ alg: 'HS256', kid: 'rs-1' })
    .sign(new TextEncoder().encode(fixture.rsaPublicPem))
  await assertRefused(server, forged, /not signed with RS256/, 'HS256 under the RSA key id')
})

test('a token for another kid or another algorithm, or an unknown kid, is refused', async (t) => {
  const { server } = await tokenServer(t)
  const claims = { pubsub: READ_ORDERS }
  await assertRefused(server, await hsToken(claims, { kid: 'es-1' }), /not signed with ES256/, 'HS256 with the ES256 kid')
  const hs512 = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, exp: nowSec() + 60, ...claims })
    .setProtectedHeader({ alg: 'HS512', kid: 'hs-1' })
    .sign(new TextEncoder().encode(HS_SECRET + HS_SECRET))
  await assertRefused(server, hs512, /not signed with HS256/, 'HS512 under an HS256 kid')
  await assertRefused(server, await hsToken(claims, { kid: 'hs-2' }), /no known key/, 'unknown kid')
})

test('a key carried in the token header is ignored', async (t) => {
  const { server } = await tokenServer(t)
  const attacker = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(attacker.publicKey)
  const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'alice', exp: nowSec() + 60, pubsub: READ_ORDERS }
  for (const header of [{ kid: 'es-1', jwk }, { kid: 'es-1', jku: 'http://127.0.0.1:1/jwks.json' }, { kid: 'es-1', x5c: ['AAAA'] }]) {
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', ...header }).sign(attacker.privateKey)
    await assertRefused(server, token, /signature that does not verify|malformed/, JSON.stringify(Object.keys(header)))
  }
})

test('one flipped signature bit, or two or four segments, is refused', async (t) => {
  const { server } = await tokenServer(t)
  const token = await hsToken({ pubsub: READ_ORDERS })
  assert.equal((await readWith(server, token)).status, 200)
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const bytes = Buffer.from(signature, 'base64url')
  bytes[5] = (bytes[5] as number) ^ 0x01
  await assertRefused(server, `${header}.${payload}.${bytes.toString('base64url')}`, /signature that does not verify/, 'flipped bit')
  await assertRefused(server, `${header}.${payload}`, /not a valid API key or token/, 'two segments')
  await assertRefused(server, `${token}.${signature}`, /not a valid API key or token/, 'four segments')
})

test('expiry and not-before are checked with the tolerance, and exp is required', async (t) => {
  const { server } = await tokenServer(t)
  const now = nowSec()
  const grants = { pubsub: READ_ORDERS }
  assert.equal((await readWith(server, await hsToken({ ...grants, exp: now - TOLERANCE_SEC + 3 }))).status, 200, 'expired, just inside the tolerance')
  await assertRefused(server, await hsToken({ ...grants, exp: now - TOLERANCE_SEC - 3 }), /has expired/, 'expired, just outside the tolerance')
  await assertRefused(server, await hsToken({ ...grants, exp: now - 3600 }), /has expired/, 'expired an hour ago')
  assert.equal((await readWith(server, await hsToken({ ...grants, nbf: now + TOLERANCE_SEC - 3 }))).status, 200, 'not yet valid, just inside the tolerance')
  await assertRefused(server, await hsToken({ ...grants, nbf: now + TOLERANCE_SEC + 3 }), /"nbf" claim/, 'not yet valid')
  const noExp = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, ...grants }).setProtectedHeader({ alg: 'HS256', kid: 'hs-1' }).sign(new TextEncoder().encode(HS_SECRET))
  await assertRefused(server, noExp, /"exp" claim/, 'no exp')
})

test('a wrong issuer or audience is refused', async (t) => {
  const { server } = await tokenServer(t)
  await assertRefused(server, await hsToken({ pubsub: READ_ORDERS, iss: 'https://evil.example' }), /"iss" claim/, 'issuer')
  await assertRefused(server, await hsToken({ pubsub: READ_ORDERS, aud: 'other' }), /"aud" claim/, 'audience')
  await assertRefused(server, await hsToken({ pubsub: READ_ORDERS, iss: undefined }), /"iss" claim/, 'no issuer')
})

test('a token over 8 KB is refused by its length, before any verification', async (t) => {
  const { server } = await tokenServer(t)
  const big = await hsToken({ pubsub: { subscribe: ['orders.*', ...Array.from({ length: 350 }, (_, i) => `padding.topic${i}`)] } })
  assert.ok(big.length > 8192, `${big.length} bytes`)
  await assertRefused(server, big, /longer than 8192 bytes/, 'a validly signed 8 KB+ token')
})

test('{sub} grants the subject its own topics; a subject with a dot, * or > gets none', async (t) => {
  const { server } = await tokenServer(t)
  const admin = { 'X-API-Key': KEYS.admin }
  for (const name of ['users.alice', 'users.bob', 'users.a.b']) {
    assert.equal((await request(server.url, 'POST', '/topics', { name }, admin)).status, 201)
  }
  const read = async (sub: string, topic: string): Promise<number> => {
    const token = await hsToken({ sub, pubsub: { subscribe: ['users.{sub}'] } })
    return (await request(server.url, 'GET', `/topics/${topic}/messages`, undefined, { Authorization: `Bearer ${token}` })).status
  }
  assert.equal(await read('alice', 'users.alice'), 200)
  assert.equal(await read('alice', 'users.bob'), 403)
  assert.equal(await read('a.b', 'users.a.b'), 403)
  for (const sub of ['*', '>']) {
    for (const topic of ['users.alice', 'users.bob', 'users.a.b']) assert.equal(await read(sub, topic), 403, `sub ${sub} on ${topic}`)
  }
})

test('a token is not accepted as X-API-Key, nor on REST in the query', async (t) => {
  const { server } = await tokenServer(t)
  const token = await hsToken({ pubsub: READ_ORDERS })
  assert.equal((await request(server.url, 'GET', '/topics/orders.eu/messages', undefined, { 'X-API-Key': token })).status, 401)
  assert.equal((await request(server.url, 'GET', `/topics/orders.eu/messages?access_token=${token}`)).status, 401)
})
