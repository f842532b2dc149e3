import { optionsFromEnv } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { startServer } from '../../src/server.js'

/**
 * The server as the soak runs it: a child process started with --expose-gc, so
 * the soak can ask (over the IPC channel) for a forced collection followed by
 * a memory reading, and stop it when the run is over.
 */

export type SoakRequest = { type: 'measure' } | { type: 'stop' }
export type Memory = { rss: number; heapUsed: number; heapTotal: number; external: number }
export type SoakReply = { type: 'memory'; memory: Memory } | { type: 'stopped' }

const parsed = optionsFromEnv(process.env)
if ('problems' in parsed) throw new Error(parsed.problems.join('; '))
const server = await startServer({ ...parsed.options, logger: createLogger(parsed.options.logLevel) })

const collect = (globalThis as { gc?: () => void }).gc
if (!collect) throw new Error('the soak server needs --expose-gc')

const reply = (message: SoakReply): void => void process.send?.(message)

process.on('message', (request: SoakRequest) => {
  if (request.type === 'stop') return void server.close().then(() => reply({ type: 'stopped' }))
  // Two passes: the first can leave garbage that only a second one frees (weak references, finalizers).
  collect()
  collect()
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage()
  reply({ type: 'memory', memory: { rss, heapUsed, heapTotal, external } })
})
