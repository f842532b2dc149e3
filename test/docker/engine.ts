import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { within } from '../helpers.js'

const run = promisify(execFile)

/** Runs a docker (or docker-compose) command and returns its stdout; a failure carries its stderr. */
export async function dockerCli(command: 'docker' | 'docker-compose', args: string[], ms: number, env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run(command, args, { timeout: ms, maxBuffer: 64 * 1024 * 1024, env: env ?? process.env })
    return stdout
  } catch (error) {
    const stderr = typeof error === 'object' && error !== null && 'stderr' in error ? String(error.stderr) : ''
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr.slice(-4000)}`, { cause: error })
  }
}

export const docker = (args: string[], ms = 30_000): Promise<string> => dockerCli('docker', args, ms)

/**
 * Resolves once Docker's own health check reports `container` healthy, and rejects if it
 * reports unhealthy first. Docker's event stream says so as it happens; `since` (Unix
 * seconds, taken before the container started) replays a report that came before we listened.
 */
export function healthy(container: string, since: number, ms: number): Promise<void> {
  const events = spawn('docker', ['events', '--since', String(since), '--filter', `container=${container}`,
    '--filter', 'event=health_status', '--format', '{{.Status}}'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let seen = ''
  const verdict = new Promise<void>((resolve, reject) => {
    events.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      if (seen.includes('health_status: healthy')) resolve()
      else if (seen.includes('health_status: unhealthy')) reject(new Error(`${container} turned unhealthy`))
    })
    events.once('exit', (code) => reject(new Error(`docker events exited with ${code} before ${container} turned healthy`)))
  })
  return within(verdict, `Docker to report ${container} healthy`, ms).finally(() => events.kill())
}
