/**
 * Builds the browser client as one minified ES module, dist/client/pubsub-client.js,
 * which the server serves at /client.js. `npm run build` runs it after tsc.
 */
import { build } from 'esbuild'
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

export const BUNDLE_URL = new URL('../dist/client/pubsub-client.js', import.meta.url)
const ENTRY = fileURLToPath(new URL('../src/client/browser.ts', import.meta.url))

/** The bundle's bytes. `platform: 'browser'` makes any Node module in the graph a build error. */
export async function bundleClient(): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    legalComments: 'none',
    write: false,
  })
  const [output] = result.outputFiles
  if (!output) throw new Error('esbuild produced no output')
  return output.contents
}

/** Bytes after gzip at its highest level, as a server or CDN would send the file. */
export const gzippedSize = (bytes: Uint8Array): number => gzipSync(bytes, { level: 9 }).length

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await bundleClient()
  await mkdir(new URL('.', BUNDLE_URL), { recursive: true })
  await writeFile(BUNDLE_URL, bytes)
  // stderr: `npm start` runs this too, and its stdout carries only the server's JSON log.
  console.error(`${fileURLToPath(BUNDLE_URL)}: ${bytes.length} bytes minified, ${gzippedSize(bytes)} gzipped`)
}
