import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import { parse } from 'yaml'
import { request, startServer } from './helpers.js'
import { Contract, loadSpec, SPEC_PATH } from './spec.js'

type Json = Record<string, unknown>
const METHODS = ['get', 'post', 'put', 'delete', 'patch', 'head', 'options']

test('openapi.yaml is a valid OpenAPI 3.1 document', async () => {
  const validator = new Validator()
  const result = await validator.validate(readFileSync(SPEC_PATH, 'utf8'))
  assert.equal(validator.version, '3.1')
  assert.deepEqual(result.errors, undefined)
  assert.equal(result.valid, true)
})

test('the validator rejects a document with an invalid operation', async () => {
  const broken = loadSpec()
  const paths = broken.paths as Record<string, Json>
  paths['/topics'] = { post: { responses: 'none' } }
  const result = await new Validator().validate(broken)
  assert.equal(result.valid, false)
})

test('every example in the document matches its schema', () => {
  const contract = new Contract()
  let checked = 0
  const visit = (node: unknown, pointer: string): void => {
    if (typeof node !== 'object' || node === null) return
    const media = node as Json
    if (pointer.includes('/content/') && 'schema' in media) {
      const validate = contract.validator(`${pointer}/schema`)
      const examples = 'example' in media ? [media.example] : Object.values((media.examples ?? {}) as Record<string, Json>).map((e) => e.value)
      for (const example of examples) {
        assert.ok(validate(example), `example at ${pointer}: ${JSON.stringify(validate.errors)}`)
        checked++
      }
    }
    for (const [key, child] of Object.entries(node)) {
      visit(child, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`)
    }
  }
  visit(contract.spec.paths, '/paths')
  visit(contract.spec.components, '/components')
  const schemas = contract.spec.components as { schemas: Record<string, { examples?: unknown[] }> }
  for (const [name, schema] of Object.entries(schemas.schemas)) {
    for (const example of schema.examples ?? []) {
      contract.assertSchema(name, example)
      checked++
    }
  }
  assert.ok(checked >= 20, `only ${checked} examples were checked`)
})

test('/openapi.json serves the same document as /openapi.yaml', async (t) => {
  const server = await startServer(t)
  const yaml = await request(server.url, 'GET', '/openapi.yaml')
  const json = await request(server.url, 'GET', '/openapi.json')
  assert.equal(yaml.status, 200)
  assert.equal(json.status, 200)
  assert.match(yaml.headers.get('content-type') ?? '', /^application\/yaml/)
  assert.match(json.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(yaml.text, readFileSync(SPEC_PATH, 'utf8'))
  assert.deepEqual(json.body, parse(yaml.text))
})

test('every documented operation is routed, and an undocumented method is refused', async (t) => {
  const server = await startServer(t)
  const paths = loadSpec().paths as Record<string, Json>
  for (const [path, item] of Object.entries(paths)) {
    const concrete = path.replace('{name}', 'no-such-topic').replace('{asset}', path.startsWith('/console/') ? 'main.js' : 'docs.js')
    for (const method of METHODS.filter((m) => m in item)) {
      const res = await request(server.url, method.toUpperCase(), concrete, method === 'post' ? {} : undefined)
      assert.ok(res.status !== 405 && !(res.status === 404 && res.text.includes('"NOT_FOUND"')), `${method} ${path} is not routed: ${res.status}`)
    }
  }
  // A method the document does not list on a documented path is refused.
  const refused = await request(server.url, 'PUT', '/topics')
  assert.equal(refused.status, 405)
  assert.equal(refused.headers.get('allow'), 'POST, GET, HEAD')
})

test('/docs is a Swagger UI page whose scripts and styles all come from this server', async (t) => {
  const server = await startServer(t)
  const page = await request(server.url, 'GET', '/docs')
  assert.equal(page.status, 200)
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
  const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '')
  assert.ok(refs.length >= 3, `the page references ${refs.join(', ')}`)
  for (const ref of refs) {
    assert.match(ref, /^\/docs\/[\w.-]+\?v=[0-9a-f]{16}$/, `${ref} must be a versioned asset of this server`)
    const asset = await request(server.url, 'GET', ref)
    assert.equal(asset.status, 200, `${ref} answered ${asset.status}`)
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable', ref)
  }
  const init = await request(server.url, 'GET', '/docs/docs.js')
  assert.match(init.text, /url: '\/openapi\.yaml'/)
})

test('an asset asked for without its current version is not cached', async (t) => {
  const server = await startServer(t)
  for (const path of ['/docs/docs.js', '/docs/docs.js?v=0000000000000000', '/docs', '/openapi.yaml', '/openapi.json']) {
    const res = await request(server.url, 'GET', path)
    assert.equal(res.status, 200, path)
    assert.equal(res.headers.get('cache-control'), 'no-cache', path)
  }
})

test('documentation assets are the swagger-ui-dist files, with their content types', async (t) => {
  const server = await startServer(t)
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
  const expected: [string, RegExp][] = [
    ['swagger-ui.css', /^text\/css/],
    ['swagger-ui-bundle.js', /^text\/javascript/],
    ['favicon-32x32.png', /^image\/png/],
  ]
  for (const [name, type] of expected) {
    const res = await fetch(`${server.url}/docs/${name}`, { signal: AbortSignal.timeout(5_000) })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', type)
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(dist, name))), `${name} differs from the package's file`)
  }
})

test('the asset names the document lists are exactly the ones the page uses', async (t) => {
  const server = await startServer(t)
  const paths = loadSpec().paths as Record<string, { get: { parameters: { schema: { enum: string[] } }[] } }>
  const documented = paths['/docs/{asset}']?.get.parameters[0]?.schema.enum ?? []
  const page = await request(server.url, 'GET', '/docs')
  const used = [...page.text.matchAll(/"\/docs\/([^"?]+)\?/g)].map((m) => m[1])
  assert.deepEqual([...documented].sort(), [...used].sort())
  for (const name of documented) assert.equal((await request(server.url, 'GET', `/docs/${name}`)).status, 200, name)
})

test('only allowlisted documentation assets are served: no path traversal', async (t) => {
  const server = await startServer(t)
  const attempts = [
    '/docs/index.html',
    '/docs/package.json',
    '/docs/..%2Fpackage.json',
    '/docs/..%2F..%2Fpackage.json',
    '/docs/%2E%2E%2F%2E%2E%2Fopenapi.yaml',
    '/docs/swagger-ui.css.map',
    '/docs/__proto__',
    '/docs/constructor',
    '/docs/a/b',
  ]
  for (const path of attempts) {
    const res = await request(server.url, 'GET', path)
    assert.equal(res.status, 404, `${path} answered ${res.status}`)
    assert.equal((res.body as { code?: string } | undefined)?.code, 'NOT_FOUND', path)
  }
})

test('documentation and health are public when an API key is set; the rest needs the key', async (t) => {
  const server = await startServer(t, { apiKey: 'secret-key' })
  for (const path of ['/docs', '/docs/docs.js', '/docs/swagger-ui.css', '/openapi.yaml', '/openapi.json', '/health']) {
    assert.equal((await request(server.url, 'GET', path)).status, 200, path)
  }
  for (const path of ['/metrics', '/stats', '/topics']) {
    assert.equal((await request(server.url, 'GET', path)).status, 401, path)
    assert.equal((await request(server.url, 'GET', path, undefined, { authorization: 'Bearer secret-key' })).status, 200, path)
  }
})

test('a plain GET on /ws is told to upgrade', async (t) => {
  const server = await startServer(t)
  const res = await request(server.url, 'GET', '/ws')
  assert.equal(res.status, 426)
  assert.equal(res.headers.get('upgrade'), 'websocket')
  assert.equal((res.body as { code?: string }).code, 'UPGRADE_REQUIRED')
})
