export type RequestTarget = { path: string; query: URLSearchParams }

// RFC 9112 §3.2.2: a server must accept the absolute form (`http://host/ws`) as well.
const SCHEME_AND_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/

/**
 * The path and query of a request target, for HTTP requests and upgrades alike.
 * It never throws: `new URL` does on targets such as `//[`, and the target is
 * whatever the client sent. The path is normalised once, for every check that
 * follows (public routes, the router, /ws): empty and `.` segments are dropped
 * and `..` removes the segment before it, so `/health/` and `/x/../health` are
 * `/health`. A fragment, which clients should not send, is dropped too.
 */
export function parseTarget(target: string): RequestTarget {
  const hash = target.indexOf('#')
  const relative = (hash === -1 ? target : target.slice(0, hash)).replace(SCHEME_AND_AUTHORITY, '')
  const mark = relative.indexOf('?')
  const path = mark === -1 ? relative : relative.slice(0, mark)
  return {
    path: '/' + withoutDotSegments(path.split('/')).join('/'),
    query: new URLSearchParams(mark === -1 ? '' : relative.slice(mark + 1)),
  }
}

function withoutDotSegments(segments: string[]): string[] {
  const kept: string[] = []
  for (const segment of segments) {
    if (segment === '..') kept.pop()
    else if (segment !== '' && segment !== '.') kept.push(segment)
  }
  return kept
}
