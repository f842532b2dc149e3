import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Handler } from './respond.js'
import type { Router } from './router.js'
import { asset, CONTENT_TYPES, NO_CACHE, packageDir, serve, serveAsset, type Asset } from './static-assets.js'

/** openapi.yaml sits at the package root: two levels above both src/http and dist/http. */
const SPEC_URL = new URL('../../openapi.yaml', import.meta.url)

/** The Swagger UI files the page needs, by the name they are served under /docs/. */
const SWAGGER_UI_ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': CONTENT_TYPES.css,
  'swagger-ui-bundle.js': CONTENT_TYPES.js,
  'favicon-32x32.png': CONTENT_TYPES.png,
  'favicon-16x16.png': CONTENT_TYPES.png,
}

// Kept out of the HTML so the Content-Security-Policy can forbid inline scripts.
const INIT_SCRIPT = `window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({
    url: '/openapi.yaml',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: true,
  })
})
`

/** The page links each asset with `?v=<its hash>`, so a browser may keep it until the file changes. */
const page = (href: (name: string) => string): string => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Pub/Sub server API</title>
  <link rel="stylesheet" href="${href('swagger-ui.css')}">
  <link rel="icon" type="image/png" href="${href('favicon-32x32.png')}" sizes="32x32">
  <link rel="icon" type="image/png" href="${href('favicon-16x16.png')}" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${href('swagger-ui-bundle.js')}"></script>
  <script src="${href('docs.js')}"></script>
</body>
</html>
`

/**
 * Everything is served from this server, so the page works offline. Swagger UI sets
 * inline styles and shows images as data: URLs; scripts come only from here.
 */
const PAGE_SECURITY = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
}

const swaggerUiDir = (): string => packageDir('swagger-ui-dist')

type Loaded = { yaml: string; json: string; html: string; assets: Map<string, Asset> }

// Read on the first documentation request, not at start: the Swagger UI bundle
// and the parsed spec would add megabytes and tens of milliseconds to every
// start-up, and most servers are never asked for their docs. Once per process.
let loaded: Promise<Loaded> | undefined

/** Reads the spec and every allowlisted asset; the YAML parser too is loaded only now. */
async function loadAssets(): Promise<Loaded> {
  const { parse } = await import('yaml')
  const yaml = readFileSync(SPEC_URL, 'utf8')
  const json = JSON.stringify(parse(yaml))
  const dir = swaggerUiDir()
  const assets = new Map<string, Asset>()
  for (const [name, contentType] of Object.entries(SWAGGER_UI_ASSETS)) {
    assets.set(name, asset(contentType, readFileSync(join(dir, name))))
  }
  assets.set('docs.js', asset(CONTENT_TYPES.js, INIT_SCRIPT))
  const html = page((name) => `/docs/${name}?v=${assets.get(name)?.version ?? ''}`)
  return { yaml, json, html, assets }
}

/** A missing file still stops start-up, though the files are read only when first asked for. */
function checkFilesExist(): void {
  statSync(SPEC_URL)
  const dir = swaggerUiDir()
  for (const name of Object.keys(SWAGGER_UI_ASSETS)) statSync(join(dir, name))
}

/** Adds /openapi.yaml, /openapi.json, /docs and /docs/:asset (allowlisted names only). */
export function addDocsRoutes(router: Router<Handler>): Router<Handler> {
  checkFilesExist()
  const docs = (): Promise<Loaded> => (loaded ??= loadAssets())
  return router
    .add('GET', '/openapi.yaml', async () => serve('application/yaml; charset=utf-8', (await docs()).yaml, NO_CACHE))
    .add('GET', '/openapi.json', async () => serve('application/json', (await docs()).json, NO_CACHE))
    .add('GET', '/docs', async () => serve(CONTENT_TYPES.html, (await docs()).html, { ...NO_CACHE, ...PAGE_SECURITY }))
    .add('GET', '/docs/:asset', async (ctx) =>
      serveAsset((await docs()).assets, ctx.params.asset ?? '', ctx.query.get('v'), 'documentation'))
}
