import { readFile } from 'node:fs/promises'
import { problem, type Handler, type Reply } from './respond.js'
import type { Router } from './router.js'

/** Built by `npm run build` into dist/; two levels above both src/http and dist/http. */
const BUNDLE_URL = new URL('../../dist/client/pubsub-client.js', import.meta.url)

const HEADERS = {
  'Cache-Control': 'no-cache',
  'X-Content-Type-Options': 'nosniff',
  // A page on another origin may import it as a module, which needs CORS.
  'Access-Control-Allow-Origin': '*',
}

/**
 * Adds GET /client.js: the browser build of the client library, for pages that
 * import it straight from the server. Read once, on the first request.
 */
export function addClientScriptRoute(router: Router<Handler>): Router<Handler> {
  let script: Buffer | undefined
  return router.add('GET', '/client.js', async (): Promise<Reply> => {
    // A failed read is not kept: a server run from source serves the file once it is built.
    script ??= await readFile(BUNDLE_URL).catch(() => undefined)
    if (!script) return problem(404, 'NOT_FOUND', 'the browser client is not built on this server: run `npm run build`')
    return { status: 200, raw: { contentType: 'text/javascript; charset=utf-8', bytes: script }, headers: HEADERS }
  })
}
