import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Memory, SoakReply, SoakRequest } from './soak-server.js'
import { settlesWithin } from './soak-util.js'

/** The soak server seen from the soak: started as a child with --expose-gc, asked for memory readings, stopped. */
export type SoakChild = {
  url: string
  wsUrl: string
  /** Every JSON log line the server has written. */
  logs: Record<string, unknown>[]
  /** Memory after two forced collections. */
  measure(): Promise<Memory>
  /** Graceful close, then the child exits. */
  stop(): Promise<void>
}

export async function startSoakChild(env: Record<string, string>): Promise<SoakChild> {
  const child = fork(fileURLToPath(new URL('soak-server.ts', import.meta.url)), {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  const logs: Record<string, unknown>[] = []
  let partial = ''
  let announce: (port: number) => void = () => {}
  const listening = new Promise<number>((resolve) => { announce = resolve })
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines.filter((l) => l.trim() !== '')) {
      const entry = JSON.parse(line) as Record<string, unknown>
      logs.push(entry)
      if (entry.msg === 'listening') announce(Number(entry.port))
    }
  })
  if (!(await settlesWithin(listening, 15_000))) {
    child.kill('SIGKILL')
    throw new Error('the soak server did not start within 15 s')
  }
  const port = await listening
  const ask = (request: SoakRequest): Promise<SoakReply> => new Promise((resolve) => {
    child.once('message', (reply: SoakReply) => resolve(reply))
    child.send(request)
  })
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    logs,
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
