export type Params = Record<string, string>
export type Match<H> = { handler: H; params: Params } | { allow: string[] } | undefined

type Route<H> = { method: string; segments: string[]; handler: H }

const split = (path: string): string[] => path.split('/').filter((s) => s !== '')

/** A segment that is not valid percent-encoding is passed on as sent, for the handler's own check to refuse. */
function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** Method + path table with `:name` segments; knows nothing of requests or responses. */
export class Router<H> {
  private readonly routes: Route<H>[] = []

  add(method: string, pattern: string, handler: H): this {
    this.routes.push({ method, segments: split(pattern), handler })
    return this
  }

  /** A handler and its decoded params; else the methods the path allows (405); else undefined (404). */
  match(method: string, path: string): Match<H> {
    const segments = split(path)
    const allow = new Set<string>()
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments)
      if (!params) continue
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
        return { handler: route.handler, params }
      }
      allow.add(route.method)
    }
    if (allow.size === 0) return undefined
    if (allow.has('GET')) allow.add('HEAD')
    return { allow: [...allow] }
  }
}

function matchSegments(pattern: string[], actual: string[]): Params | undefined {
  if (pattern.length !== actual.length) return undefined
  const params: Params = {}
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] as string
    const got = actual[i] as string
    if (want.startsWith(':')) {
      params[want.slice(1)] = decode(got)
    } else if (want !== got) {
      return undefined
    }
  }
  return params
}
