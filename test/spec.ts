import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import ajvFormats from 'ajv-formats'
import { parse } from 'yaml'
import type { HttpResult } from './helpers.js'

export const SPEC_PATH = new URL('../openapi.yaml', import.meta.url)

type Json = Record<string, unknown>

/** The OpenAPI document as a plain object, read fresh from the repository. */
export const loadSpec = (): Json => parse(readFileSync(SPEC_PATH, 'utf8')) as Json

const SPEC_ID = 'https://pubsub.invalid/openapi.json'

const escapePointer = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1')

function at(doc: unknown, pointer: string): unknown {
  let node = doc
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    node = (node as Json | undefined)?.[key]
  }
  return node
}

/** Validates real traffic against the schemas of the document. */
export class Contract {
  readonly spec = loadSpec()
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true })
  private readonly compiled = new Map<string, ValidateFunction>()

  constructor() {
    // ajv-formats is CommonJS: under ESM the plugin is the module object's `default`.
    ajvFormats.default(this.ajv)
    this.ajv.addSchema(this.spec, SPEC_ID)
  }

  /** A validator for the schema at `pointer` (a JSON pointer into the document). */
  validator(pointer: string): ValidateFunction {
    let validate = this.compiled.get(pointer)
    if (!validate) {
      assert.ok(at(this.spec, pointer) !== undefined, `the document has nothing at ${pointer}`)
      validate = this.ajv.compile({ $ref: `${SPEC_ID}#${pointer}` })
      this.compiled.set(pointer, validate)
    }
    return validate
  }

  /** Asserts that `value` matches the named schema under components.schemas. */
  assertSchema(name: string, value: unknown): void {
    this.assertValid(this.validator(`/components/schemas/${name}`), value, name)
  }

  /**
   * Asserts that a real HTTP response is documented for this operation (status and
   * media type) and that its body matches the documented schema.
   */
  assertResponse(method: string, path: string, res: HttpResult): void {
    const operation = `/paths/${escapePointer(path)}/${method.toLowerCase()}`
    assert.ok(at(this.spec, operation), `${method} ${path} is not documented`)
    let response = `${operation}/responses/${res.status}`
    const ref = (at(this.spec, response) as Json | undefined)?.$ref
    if (typeof ref === 'string') response = ref.slice(1)
    const content = at(this.spec, `${response}/content`) as Json | undefined
    assert.ok(content, `${method} ${path} has no documented ${res.status} response with content (got ${res.text.slice(0, 200)})`)
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? ''
    assert.ok(mediaType in content, `${method} ${path} ${res.status}: ${mediaType} is not among ${Object.keys(content).join(', ')}`)
    const isJson = mediaType.endsWith('json')
    const body = isJson ? JSON.parse(res.text) : res.text
    this.assertValid(this.validator(`${response}/content/${escapePointer(mediaType)}/schema`), body, `${method} ${path} ${res.status}`)
  }

  private assertValid(validate: ValidateFunction, value: unknown, what: string): void {
    const valid = validate(value)
    assert.ok(valid, `${what} does not match the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`)
  }
}
