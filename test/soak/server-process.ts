import { fileURLToPath } from 'node:url'
import { spawnServer } from '../child.js'
import { within, type LogLine } from '../helpers.js'
import type { Memory, SoakReply, SoakRequest } from './server.js'

/** The soak server seen from the soak: started as a child with --expose-gc, asked for memory readings, stopped. */
export type SoakChild = {
  url: string
  wsUrl: string
  /** Every JSON log line the server has written. */
  logs(): LogLine[]
  /** Memory after two forced collections. */
  measure(): Promise<Memory>
  /** Graceful close, then the child exits. */
  stop(): Promise<void>
}

export async function startSoakChild(env: Record<string, string>): Promise<SoakChild> {
  const server = await spawnServer(undefined, {
    nodeFlags: ['--expose-gc'],
    entry: ['--import', 'tsx', fileURLToPath(new URL('server.ts', import.meta.url))],
    env,
    ipc: true,
  })
  // Whatever the server writes to stderr belongs in the soak's own output, as it happens.
  server.child.stderr?.pipe(process.stderr)
  const { child } = server
  // Measuring forces two full collections of a large heap: generous, but bounded.
  const ask = (request: SoakRequest): Promise<SoakReply> => within(new Promise((resolve) => {
    child.once('message', (reply: SoakReply) => resolve(reply))
    child.send(request)
  }), `the soak server's answer to '${request.type}'`, 60_000)
  return {
    url: server.url,
    wsUrl: server.wsUrl,
    logs: () => server.stdout.map((text) => JSON.parse(text) as LogLine),
    measure: async () => {
      const reply = await ask({ type: 'measure' })
      if (reply.type !== 'memory') throw new Error('the soak server did not report its memory')
      return reply.memory
    },
    stop: async () => {
      await ask({ type: 'stop' })
      child.disconnect()
    },
  }
}
