export type RequestTarget = { path: string; query: URLSearchParams }

// RFC 9112 §3.2.2: a server must accept the absolute form (`http://host/ws`) as well.
const SCHEME_AND_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/

/**
 * The path and query of a request target, for HTTP requests and upgrades alike.
 * It never throws: `new URL` does on targets such as `//[`, and the target is
 * whatever the client sent. The path is normalised the way the router matches
 * it (empty segments dropped), so `/health/` is `/health` for every check.
 */
export function parseTarget(target: string): RequestTarget {
  const relative = target.replace(SCHEME_AND_AUTHORITY, '')
  const mark = relative.indexOf('?')
  const path = mark === -1 ? relative : relative.slice(0, mark)
  return {
    path: '/' + path.split('/').filter((segment) => segment !== '').join('/'),
    query: new URLSearchParams(mark === -1 ? '' : relative.slice(mark + 1)),
  }
}
