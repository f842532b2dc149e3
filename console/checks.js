// What the page checks before it sends anything: the same rules the server applies,
// so a mistake is named next to its field instead of coming back as BAD_REQUEST.

/** @template T @typedef {{ ok: true, value: T } | { ok: false, error: string }} Result */

const TOPIC = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/
const EPOCH = /^[A-Za-z0-9._-]{1,64}$/
const MAX_MESSAGE_ID_CHARS = 256

/** @template T @param {T} value @returns {Result<T>} */
const ok = (value) => ({ ok: true, value })
/** @param {string} error @returns {{ ok: false, error: string }} */
const fail = (error) => ({ ok: false, error })

/** @param {string} text @returns {Result<string>} */
export function checkTopic(text) {
  if (TOPIC.test(text)) return ok(text)
  return fail('Topic must be 1-128 characters of A-Z a-z 0-9 . _ : - starting with a letter or digit, such as "orders".')
}

/**
 * The payload may be any JSON value; an empty field is a mistake, not `null`.
 * @param {string} text
 * @returns {Result<unknown>}
 */
export function parsePayload(text) {
  if (text.trim() === '') return fail('Payload is required: any JSON value, such as {"item":"Mouse"}.')
  try {
    return ok(JSON.parse(text))
  } catch (error) {
    return fail(`Payload is not valid JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/**
 * An empty id lets the server assign one; ids are counted in code points, as the server counts them.
 * @param {string} text
 * @returns {Result<string | undefined>}
 */
export function checkMessageId(text) {
  if (text === '') return ok(undefined)
  if ([...text].length > MAX_MESSAGE_ID_CHARS) return fail(`Message id must be at most ${MAX_MESSAGE_ID_CHARS} characters.`)
  return ok(text)
}

/** @param {string} text @returns {number | undefined} */
const wholeNumber = (text) => (/^\d{1,16}$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined)

/**
 * Where a subscription starts: `last_n` replays recent events; `epoch` and
 * `since_seq` resume from a position, with `last_n` as the fallback when the
 * server cannot resume. Empty fields are left out of the frame.
 * @param {{ lastN: string, epoch: string, sinceSeq: string }} fields
 * @returns {Result<{ last_n?: number, epoch?: string, since_seq?: number }>}
 */
export function checkStart({ lastN, epoch, sinceSeq }) {
  /** @type {{ last_n?: number, epoch?: string, since_seq?: number }} */
  const start = {}
  if (lastN !== '') {
    const n = wholeNumber(lastN)
    if (n === undefined) return fail('last_n must be a whole number >= 0.')
    start.last_n = n
  }
  if (sinceSeq === '' && epoch === '') return ok(start)
  const seq = wholeNumber(sinceSeq)
  if (seq === undefined) return fail('since_seq must be a whole number >= 0 when resuming from a position.')
  if (!EPOCH.test(epoch)) return fail('epoch must be 1-64 characters of A-Z a-z 0-9 . _ - when resuming from a position.')
  return ok({ ...start, epoch, since_seq: seq })
}

/** @param {string} text @returns {string} */
export function base64url(text) {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * The WebSocket subprotocols to offer. Browsers cannot set headers on an upgrade,
 * and a URL ends up in logs, so a credential travels as a subprotocol the server
 * reads and never echoes; it selects `pubsub.v1`.
 * @param {string} credential
 * @returns {string[]}
 */
export function subprotocols(credential) {
  return credential === '' ? ['pubsub.v1'] : ['pubsub.v1', `pubsub.auth.${base64url(credential)}`]
}
