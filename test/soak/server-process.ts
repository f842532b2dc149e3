import { fileURLToPath } from 'node:url'
import { spawnServer } from '../child.js'
import { request, within, type LogLine } from '../helpers.js'
import type { Memory, SoakReply, SoakRequest } from './server.js'

/** The soak server seen from the soak: started as a child with --expose-gc, asked for memory readings, stopped. */
export type SoakChild = {
  url: string
  wsUrl: string
  /** Every JSON log line the server has written. */
  logs(): LogLine[]
  /** Memory after two forced collections. */
  measure(): Promise<Memory>
  /** Open connections, from /health. */
  connections(): Promise<number>
  /** SIGKILL, as a crash would; resolves once the process is gone. */
  kill(): Promise<void>
  /** Graceful close, then the child exits (nothing to do once it is gone). */
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
  let gone = false
  void server.exited.then(() => { gone = true })
  // Measuring forces two full collections of a large heap: generous, but bounded.
  const ask = (question: SoakRequest): Promise<SoakReply> => within(new Promise((resolve) => {
    child.once('message', (reply: SoakReply) => resolve(reply))
    child.send(question)
  }), `the soak server's answer to '${question.type}'`, 60_000)
  return {
    url: server.url,
    wsUrl: server.wsUrl,
    logs: () => server.stdout.map((text) => JSON.parse(text) as LogLine),
    measure: async () => {
      const reply = await ask({ type: 'measure' })
      if (reply.type !== 'memory') throw new Error('the soak server did not report its memory')
      return reply.memory
    },
    connections: async () => ((await request(server.url, 'GET', '/health')).body as { connections: number }).connections,
    kill: async () => {
      child.kill('SIGKILL')
      await server.exited
    },
    stop: async () => {
      if (gone) return
      await ask({ type: 'stop' })
      child.disconnect()
    },
  }
}
