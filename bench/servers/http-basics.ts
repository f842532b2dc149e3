import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The REST surface the harness needs from a baseline: /health and topic
 * creation, so every target is started and prepared the same way.
 */
export function basicRoutes(createTopic: (name: string) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
      return
    }
    if (req.method === 'POST' && req.url === '/topics') {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (chunk: string) => { body += chunk })
      req.on('end', () => {
        const parsed: unknown = JSON.parse(body)
        const name = typeof parsed === 'object' && parsed !== null && 'name' in parsed ? parsed.name : undefined
        if (typeof name !== 'string') {
          res.writeHead(400).end()
          return
        }
        createTopic(name)
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'created', topic: name }))
      })
      return
    }
    res.writeHead(404).end()
  }
}

/** The port and host from the environment, as the service reads them. */
export const listenAddress = (): { port: number; host: string } => ({
  port: Number(process.env.PORT ?? 0),
  host: process.env.HOST ?? '127.0.0.1',
})

/** The event both kinds of baseline broadcast: the service's event shape. */
export type BaselineEvent = { type: 'event'; topic: string; seq: number; message: { id: string; payload: unknown }; ts: string }
