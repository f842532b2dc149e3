import { SignJWT, exportSPKI, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose'
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex')

/** The keys of every auth test; each is a secret that must never appear in a log, /stats or /metrics. */
export const KEYS = {
  admin: 'admin-key-6f1c2b9e8d7a',
  metrics: 'metrics-key-3a9d8c7b6e5f',
  orders: 'orders-client-key-9b8c7d6e',
} as const

export const HS_SECRET = 'an-hs256-secret-of-at-least-32-bytes!!'
export const SECRET_ENV = 'PUBSUB_TEST_JWT_SECRET'
export const ISSUER = 'https://auth.example.test'
export const AUDIENCE = 'pubsub'

export type Fixture = {
  dir: string
  path: string
  env: Record<string, string>
  es: { privateKey: CryptoKey; publicPem: string }
  rsaPublicPem: string
  /** The file as written, to change and write again. */
  file: AuthJson
  write(file: AuthJson): Promise<void>
}

export type AuthJson = { keys?: unknown[]; jwt?: Record<string, unknown> }

export function keyEntries(): unknown[] {
  return [
    { id: 'ops', role: 'admin', sha256: sha256Hex(KEYS.admin) },
    { id: 'prometheus', role: 'metrics', sha256: sha256Hex(KEYS.metrics) },
    { id: 'orders-svc', role: 'client', sha256: sha256Hex(KEYS.orders), publish: ['orders.>'], subscribe: ['orders.*', 'alerts'] },
  ]
}

/** Writes an AUTH_FILE with the three keys and an HS256 and an ES256 JWT key into a fresh folder, removed after the test. */
export async function authFixture(t: TestContext, toleranceSec = 1): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'pubsub-auth-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const es = await generateKeyPair('ES256', { extractable: true })
  const rsa = await generateKeyPair('RS256', { extractable: true })
  const publicPem = await exportSPKI(es.publicKey)
  const rsaPublicPem = await exportSPKI(rsa.publicKey)
  await writeFile(join(dir, 'es256.pem'), publicPem)
  await writeFile(join(dir, 'rs256.pem'), rsaPublicPem)
  const file: AuthJson = {
    keys: keyEntries(),
    jwt: {
      issuer: ISSUER,
      audience: AUDIENCE,
      clock_tolerance_sec: toleranceSec,
      keys: [
        { kid: 'hs-1', alg: 'HS256', secret_env: SECRET_ENV },
        { kid: 'es-1', alg: 'ES256', public_key_file: join(dir, 'es256.pem') },
        { kid: 'rs-1', alg: 'RS256', public_key_file: join(dir, 'rs256.pem') },
      ],
    },
  }
  const path = join(dir, 'auth.json')
  const write = (next: AuthJson): Promise<void> => writeFile(path, JSON.stringify(next, null, 2))
  await write(file)
  return { dir, path, env: { [SECRET_ENV]: HS_SECRET }, es: { privateKey: es.privateKey, publicPem }, rsaPublicPem, file, write }
}

export const nowSec = (): number => Math.floor(Date.now() / 1000)

/** An HS256 token for kid hs-1 with the fixture's issuer and audience, valid for a minute unless the claims say otherwise. */
export function hsToken(claims: JWTPayload & { pubsub?: unknown } = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', exp: nowSec() + 60, ...claims })
    .setProtectedHeader({ alg: 'HS256', kid: 'hs-1', ...header })
    .sign(new TextEncoder().encode(HS_SECRET))
}

export const base64url = (text: string): string => Buffer.from(text).toString('base64url')

/** A token assembled by hand, for shapes no library would sign. */
export const rawToken = (header: object, payload: object, signature = ''): string =>
  `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}.${signature}`
