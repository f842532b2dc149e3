import { spawn } from 'node:child_process'
import { within } from '../helpers.js'

/** Runs one command with redis-cli against the server on `port` and returns its output. */
export function redisCli(port: number, ...args: string[]): Promise<string> {
  return within(new Promise((resolve, reject) => {
    const cli = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    cli.stdout.on('data', (chunk) => { output += chunk })
    cli.stderr.on('data', (chunk) => { output += chunk })
    cli.once('error', reject)
    cli.on('exit', (code) => (code === 0 ? resolve(output.trim()) : reject(new Error(`redis-cli ${args.join(' ')}: ${output}`))))
  }), `redis-cli ${args.join(' ')}`)
}
