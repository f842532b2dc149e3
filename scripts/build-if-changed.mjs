// @ts-check
// `npm start`'s build step: runs `npm run build` only when what the build reads has
// changed since the last build, so that starting an up-to-date tree skips the compiler
// (seconds on a busy machine) while a fresh clone or an edited source still gets built.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
/** Inside dist/, so that removing dist/ forces a build. */
const stamp = join(root, 'dist', '.built-from')

/**
 * Every file under `dir`, sorted, so the fingerprint does not depend on directory order.
 * @param {string} dir
 * @returns {string[]}
 */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort()
}

/**
 * A hash of the names and contents of everything the build reads: the sources, the build
 * scripts, the compiler settings, and the lock file, which pins the compiler and bundler.
 * @returns {string}
 */
function fingerprint() {
  const hash = createHash('sha256')
  const inputs = [...filesUnder(join(root, 'src')), ...filesUnder(join(root, 'scripts'))]
  inputs.push(...['tsconfig.json', 'package.json', 'package-lock.json'].map((name) => join(root, name)))
  for (const file of inputs) hash.update(`${relative(root, file)}\0`).update(readFileSync(file)).update('\0')
  return hash.digest('hex')
}

const current = fingerprint()
const built = existsSync(stamp) ? readFileSync(stamp, 'utf8') : ''
if (built === current && existsSync(join(root, 'dist', 'main.js'))) process.exit(0)

// The build's output goes to stderr: `npm start`'s stdout carries only the server's JSON log.
const { status } = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', process.stderr, 'inherit'] })
if (status !== 0) process.exit(status ?? 1)
writeFileSync(stamp, current)
