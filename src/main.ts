import { optionsFromEnv } from './config.js'
import { createLogger } from './log.js'
import { AuthFileError, startServer } from './server.js'

// The command-line edge: the only place that reads the environment, traps signals or exits.
const parsed = optionsFromEnv(process.env)
if ('problems' in parsed) {
  for (const problem of parsed.problems) process.stderr.write(`invalid configuration: ${problem}\n`)
  process.exit(1)
}
const { options } = parsed
const log = createLogger(options.logLevel)

/**
 * Ctrl-C in a terminal signals the whole process group: under `npm start` the
 * server gets SIGINT from the terminal and again from npm, which passes it on.
 * The same signal within this long of the first is that one signal, not a second.
 * npm's copy was measured 1.5-20 ms behind on a loaded machine (docs/operations.md);
 * a person pressing Ctrl-C twice is hundreds of milliseconds apart.
 */
const REPEAT_WINDOW_MS = 100

let firstSignal: { signal: NodeJS.Signals; at: number } | undefined

const onSignal = (signal: NodeJS.Signals): void => {
  if (firstSignal) {
    const sinceFirstMs = Math.round((performance.now() - firstSignal.at) * 10) / 10
    if (signal === firstSignal.signal && sinceFirstMs < REPEAT_WINDOW_MS) {
      // At debug, so the gap npm leaves can be measured where it matters: here.
      return log.debug('same signal again: counted once', { signal, sinceFirstMs })
    }
    log.warn('second signal: exiting without waiting', { signal, sinceFirstMs })
    process.exit(1)
  }
  firstSignal = { signal, at: performance.now() }
  log.info('signal received: shutting down gracefully', { signal })
  void started.then((server) => server.close()).then(() => process.exit(0))
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
// The server logs the outcome: reloaded, or kept the previous file and why.
process.on('SIGHUP', () => void started.then((server) => server.reloadAuthFile()))

// Started once the signals are trapped, so one that arrives while the port is
// being bound shuts the server down as soon as it listens.
const started = startServer({ ...options, logger: log, env: process.env }).catch((error: unknown) => {
  if (error instanceof AuthFileError) process.stderr.write(`invalid configuration: ${error.message}\n`)
  else log.error('could not start', { error, host: options.host, port: options.port })
  process.exit(1)
})
