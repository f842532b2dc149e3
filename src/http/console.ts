import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Handler } from './respond.js'
import type { Router } from './router.js'
import { asset, CONTENT_TYPES, NO_CACHE, packageDir, serve, serveAsset, type Asset } from './static-assets.js'

/** The page's own files sit in console/ at the package root: two levels above both src/http and dist/http. */
const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url))

/** Every file the page may load, by the name it is served under /console/, with where it comes from. */
const CONSOLE_ASSETS: Readonly<Record<string, { dir: () => string; file: string; contentType: string }>> = {
  'console.css': { dir: () => CONSOLE_DIR, file: 'console.css', contentType: CONTENT_TYPES.css },
  'main.js': { dir: () => CONSOLE_DIR, file: 'main.js', contentType: CONTENT_TYPES.js },
  'checks.js': { dir: () => CONSOLE_DIR, file: 'checks.js', contentType: CONTENT_TYPES.js },
  'session.js': { dir: () => CONSOLE_DIR, file: 'session.js', contentType: CONTENT_TYPES.js },
  'frame-log.js': { dir: () => CONSOLE_DIR, file: 'frame-log.js', contentType: CONTENT_TYPES.js },
  'rates.js': { dir: () => CONSOLE_DIR, file: 'rates.js', contentType: CONTENT_TYPES.js },
  'live-view.js': { dir: () => CONSOLE_DIR, file: 'live-view.js', contentType: CONTENT_TYPES.js },
  'uPlot.iife.min.js': { dir: () => packageDir('uplot'), file: 'dist/uPlot.iife.min.js', contentType: CONTENT_TYPES.js },
  'uPlot.min.css': { dir: () => packageDir('uplot'), file: 'dist/uPlot.min.css', contentType: CONTENT_TYPES.css },
}

const PAGE_FILE = 'index.html'

/**
 * Everything comes from this server, so the page works offline; connect-src 'self'
 * covers the page's WebSocket to /ws and its REST polling. uPlot sizes its
 * elements through inline styles.
 */
const PAGE_SECURITY = {
  'Content-Security-Policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
}

type Loaded = { html: string; assets: Map<string, Asset> }

// Read on the first request, like the documentation: most servers never show it.
let loaded: Promise<Loaded> | undefined

async function loadAssets(): Promise<Loaded> {
  const assets = new Map<string, Asset>()
  for (const [name, { dir, file, contentType }] of Object.entries(CONSOLE_ASSETS)) {
    assets.set(name, asset(contentType, readFileSync(join(dir(), file))))
  }
  // The page names its assets plainly; versioning them here lets a browser keep each until it changes.
  const html = readFileSync(join(CONSOLE_DIR, PAGE_FILE), 'utf8').replace(
    /"\/console\/([\w.-]+)"/g,
    (_whole, name: string) => {
      const version = assets.get(name)?.version
      if (version === undefined) throw new Error(`console/${PAGE_FILE} links '${name}', which is not in the allowlist`)
      return `"/console/${name}?v=${version}"`
    },
  )
  return { html, assets }
}

/** A missing file stops start-up, though the files are read only when first asked for. */
function checkFilesExist(): void {
  statSync(join(CONSOLE_DIR, PAGE_FILE))
  for (const { dir, file } of Object.values(CONSOLE_ASSETS)) statSync(join(dir(), file))
}

/** Adds /console (the browser console for /ws and the live view) and /console/:asset, allowlisted names only. */
export function addConsoleRoutes(router: Router<Handler>): Router<Handler> {
  checkFilesExist()
  const files = (): Promise<Loaded> => (loaded ??= loadAssets())
  return router
    .add('GET', '/console', async () => serve(CONTENT_TYPES.html, (await files()).html, { ...NO_CACHE, ...PAGE_SECURITY }))
    .add('GET', '/console/:asset', async (ctx) =>
      serveAsset((await files()).assets, ctx.params.asset ?? '', ctx.query.get('v'), 'console'))
}
