import { optionsFromEnv } from './config.js'
import { createLogger } from './log.js'
import { startServer } from './server.js'

// The command-line edge: the only place that reads the environment, traps signals or exits.
const parsed = optionsFromEnv(process.env)
if ('problems' in parsed) {
  for (const problem of parsed.problems) process.stderr.write(`invalid configuration: ${problem}\n`)
  process.exit(1)
}
const { options } = parsed
const log = createLogger(options.logLevel)

const server = await startServer({ ...options, logger: log }).catch((error: unknown) => {
  log.error('could not start', { error, host: options.host, port: options.port })
  process.exit(1)
})

let stopping = false
const onSignal = (signal: NodeJS.Signals): void => {
  if (stopping) {
    log.warn('second signal: exiting without waiting', { signal })
    process.exit(1)
  }
  stopping = true
  log.info('signal received: shutting down gracefully', { signal })
  void server.close().then(() => process.exit(0))
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
