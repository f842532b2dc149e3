import fc from 'fast-check'
import { upgradeRequest } from './raw-socket.js'

/** The Host header's port, which the server does not read. */
const UNUSED_PORT = 80

/** Generators of hostile input for the fuzz properties: WebSocket frames and HTTP requests. */

/** Generated cases in `npm test`; `npm run fuzz` raises it through FUZZ_RUNS. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 10_000)
if (!Number.isSafeInteger(FUZZ_RUNS) || FUZZ_RUNS < 100) throw new Error(`FUZZ_RUNS must be an integer >= 100, got ${process.env.FUZZ_RUNS}`)

/** Topics that exist on the fuzzed server; the side subscriber follows all of them. */
export const LIVE_TOPICS = ['fuzz-a', 'fuzz-b', 'constructor'] as const

export type WsInput = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array }

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf']

/** Numbers JSON can spell but JavaScript holds badly: overflow to Infinity, lose precision, negative zero. */
const HUGE_NUMBER_TEXT = fc.constantFrom('1e400', '-1e400', '1e308', '123456789012345678901234567890', '-0', '0.5', '4294967296', '9007199254740993')

const longString = fc.integer({ min: 1_000, max: 100_000 }).map((n) => 'x'.repeat(n))

const anyString = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) }, { weight: 1, arbitrary: longString })

const topicField = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...LIVE_TOPICS) },
  { weight: 2, arbitrary: fc.constantFrom('missing-topic', '', ' ', '../fuzz-a', 'fuzz-a/../x', '.hidden', 'a'.repeat(129), '__proto__', 'toString', 'fuzz a') },
  { weight: 1, arbitrary: anyString },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
)

/** Everything JSON can hold, with the awkward cases made likely. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: longString },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...HOSTILE_KEYS), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1 }) },
)

const countField = fc.oneof(
  fc.nat({ max: 100 }),
  fc.integer({ min: -5, max: -1 }),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 1e300, '3', null, true, []),
)

const messageField = fc.oneof(
  { weight: 6, arbitrary: fc.record({ id: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }), payload: anyJson }, { requiredKeys: ['payload'] }) },
  { weight: 1, arbitrary: fc.record({ id: fc.oneof(fc.constant(''), longString, fc.integer()), payload: anyJson }) },
  { weight: 1, arbitrary: anyJson },
)

/** A message of a real type with each field valid, absent or replaced by junk. */
const plausibleMessage = fc.record(
  {
    type: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('subscribe', 'unsubscribe', 'publish', 'ping') }, { weight: 1, arbitrary: fc.oneof(anyString, fc.constantFrom('PING', 'event', 'ack', '__proto__', 'constructor')) }),
    topic: topicField,
    request_id: fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
    client_id: fc.oneof(fc.string({ maxLength: 30 }), fc.integer()),
    last_n: countField,
    message: messageField,
  },
  { requiredKeys: ['type'] },
)

/** A request the server must accept, so plenty of events flow to the side subscriber. */
const validMessage = fc.oneof(
  fc.record({ type: fc.constant('publish'), topic: fc.constantFrom(...LIVE_TOPICS), request_id: fc.string({ maxLength: 12 }), message: fc.record({ payload: anyJson }) }),
  fc.record({ type: fc.constantFrom('subscribe', 'unsubscribe'), topic: fc.constantFrom(...LIVE_TOPICS), last_n: fc.nat({ max: 60 }) }),
)

/** Adds hostile own keys (JSON.parse makes `__proto__` an own key, never a prototype). */
const withHostileKeys = fc.tuple(plausibleMessage, fc.constantFrom(...HOSTILE_KEYS), fc.jsonValue({ maxDepth: 2 })).map(([message, key, value]) => {
  const text = JSON.stringify(message)
  return `{${JSON.stringify(key)}:${JSON.stringify(value)},${text.slice(1)}`
})

/** A huge or lossy number literal written where a field's value goes (JSON.stringify could not spell 1e400). */
const withHugeNumber = fc.tuple(HUGE_NUMBER_TEXT, fc.constantFrom(...LIVE_TOPICS)).chain(([n, topic]) => fc.constantFrom(
  `{"type":"subscribe","topic":"${topic}","last_n":${n}}`,
  `{"type":"ping","request_id":${n}}`,
  `{"type":"unsubscribe","topic":${n}}`,
  `{"type":"publish","topic":"${topic}","message":{"id":${n},"payload":${n}}}`,
  `{"type":"publish","topic":"${topic}","message":{"payload":${n}}}`,
))

/** Nesting deep enough to overflow a recursive encoder, as the payload or as the whole frame. */
const deeplyNested = fc.tuple(fc.integer({ min: 100, max: 20_000 }), fc.constantFrom('[]', '{}'), fc.boolean(), fc.constantFrom(...LIVE_TOPICS)).map(([depth, brackets, asPayload, topic]) => {
  const [open, close] = brackets === '[]' ? ['[', ']'] : ['{"a":', '}']
  const nested = open.repeat(depth) + (brackets === '[]' ? '' : '1') + close.repeat(depth)
  return asPayload ? `{"type":"publish","topic":"${topic}","message":{"payload":${nested}}}` : nested
})

const text = (arbitrary: fc.Arbitrary<string>): fc.Arbitrary<WsInput> => arbitrary.map((t) => ({ kind: 'text', text: t }))

/** One WebSocket frame a client might send, from well formed to garbage. */
export const wsInput: fc.Arbitrary<WsInput> = fc.oneof(
  { weight: 10, arbitrary: text(plausibleMessage.map((m) => JSON.stringify(m))) },
  { weight: 6, arbitrary: text(validMessage.map((m) => JSON.stringify(m))) },
  { weight: 2, arbitrary: text(withHostileKeys) },
  { weight: 2, arbitrary: text(withHugeNumber) },
  { weight: 1, arbitrary: text(deeplyNested) },
  { weight: 2, arbitrary: text(fc.json({ maxDepth: 3 })) },
  { weight: 2, arbitrary: text(fc.string({ unit: 'binary', maxLength: 64 })) },
  { weight: 1, arbitrary: text(fc.constantFrom('', ' ', 'null', '[]', '"ping"', '{', '{"type":"ping"', '{"type":"ping"}}', '\u0000')) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 256 }).map((bytes): WsInput => ({ kind: 'binary', bytes })) },
)

// ---- HTTP ----

export type HttpInput = { method: string; path: string; headers: Record<string, string>; body: string | undefined }

/** Printable ASCII without space: what a request target may carry without escaping. */
const PRINTABLE = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 24 })

const pathSegment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('topics', 'messages', 'health', 'stats', 'ws', 'fuzz-a', 'constructor', '__proto__') },
  { weight: 3, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%2F', '..%2F..%2Fetc%2Fpasswd', '%00', '%', '%zz', '%E2%82', '%C0%AE', 'a%20b', '%F0%9F%98%80') },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/) },
  { weight: 2, arbitrary: PRINTABLE },
)

const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('?last_n=3', '?last_n=-1', '?last_n=1e400', '?last_n=99999999999', '?last_n=', '?last_n=%00', '?api_key=x', '?__proto__[x]=1'),
  PRINTABLE.map((q) => `?${q}`),
)

const path = fc.tuple(fc.array(pathSegment, { minLength: 0, maxLength: 5 }), fc.boolean(), query).map(
  ([segments, doubled, q]) => '/' + segments.join(doubled ? '//' : '/') + q,
)

const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS') },
  { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'FOO', 'get', 'CONNECTX') },
)

const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 })

const headers = fc.dictionary(
  fc.oneof(fc.constantFrom('content-type', 'accept', 'x-api-key', 'authorization', 'x-forwarded-for', 'origin', 'cookie'), fc.stringMatching(/^x-[a-z0-9-]{1,20}$/)),
  fc.oneof(fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain; charset=utf-16', 'Bearer ', '*/*'), headerValue),
  { maxKeys: 4 },
)

const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom('{"name":"fuzz-made"}', '{"name":"__proto__"}', '{"__proto__":{"polluted":true},"name":"p"}', '{"payload":1}', '{"constructor":{"prototype":{"polluted":true}},"payload":2}', '{"payload":1e400}', '[]', 'null', '"x"', '{', '') },
  { weight: 3, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deeplyNested },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: longString.map((s) => `{"payload":"${s}"}`) },
)

/** One HTTP request a client might send: odd methods, encoded and traversal paths, junk bodies and headers. */
export const httpInput: fc.Arbitrary<HttpInput> = fc.record({ method, path, headers, body })

// ---- HTTP below the client library: bytes no well-behaved client would send ----

const lineEnd = fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '\r', '')

const requestLine = fc.tuple(
  fc.oneof(method, fc.constantFrom('', 'G ET', 'POST\t', '\x00GET'), fc.string({ maxLength: 8 })),
  fc.oneof(path, fc.constantFrom('*', 'http://127.0.0.1/topics', '', '/a b', '/%', '//../../etc/passwd', '/\x7f')),
  fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', 'HTTP/', ''),
).map(([m, p, v]) => `${m} ${p} ${v}`)

const rawHeaderLine = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,16}$/), headerValue).map(([name, value]) => `${name}: ${value}`) },
  { weight: 2, arbitrary: fc.constantFrom('Content-Length: 5', 'Content-Length: -1', 'Content-Length: 99999999999999999999', 'Content-Length: 1, 2', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked\r\nContent-Length: 3', 'Upgrade: websocket', 'Connection: Upgrade', 'Expect: 100-continue', 'Host:') },
  { weight: 1, arbitrary: fc.constantFrom('no colon', ' leading: space', 'Name : space', '\tfolded continuation', 'Bad\x00Name: x', 'X: \x01\x02') },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 40_000 }).map((n) => `X-Big: ${'b'.repeat(n)}`) },
)

const rawBody = fc.oneof(
  fc.constant(''),
  fc.json({ maxDepth: 2 }),
  fc.constantFrom('5\r\nhello\r\n0\r\n\r\n', 'zz\r\nhello\r\n', 'ffffffffffffffff\r\n', '0\r\n\r\nGET / HTTP/1.1\r\n\r\n', '3;ext=' + 'e'.repeat(20_000) + '\r\nabc\r\n'),
  fc.string({ unit: 'binary', maxLength: 100 }),
)

/** A complete WebSocket handshake to a fuzzed target: the upgrade path parses the target too. */
const upgradeStream = fc.oneof(
  path,
  fc.constantFrom('//[', '//x:99999/ws', 'http://[/ws', 'http://h/ws', 'ws://h:1/ws?api_key=x', 'HTTP://h', '/ws/..', '/ws%2F', '*', ''),
  fc.string({ maxLength: 20 }).filter((target) => !/[\s\x00-\x1f]/.test(target)),
).map((target) => Buffer.from(upgradeRequest(UNUSED_PORT, target), 'latin1'))

/** One raw byte stream to write to a fresh TCP connection before half-closing it. */
export const rawHttpInput: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 1, arbitrary: upgradeStream },
  { weight: 6, arbitrary: fc.tuple(requestLine, fc.array(fc.tuple(rawHeaderLine, lineEnd), { maxLength: 6 }), lineEnd, lineEnd, rawBody).map(
    ([line, headerLines, end1, end2, bodyText]) => Buffer.from(line + end1 + headerLines.map(([h, e]) => h + e).join('') + end2 + bodyText, 'latin1'),
  ) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
)
