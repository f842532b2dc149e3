import { WebSocket } from 'ws'
import { within } from '../helpers.js'

export type UpgradeAnswer = { status: number; challenge?: string | undefined; code?: string }

/** A WebSocket upgrade attempt: 101 when it opened, else the HTTP status, its WWW-Authenticate and problem code. */
export function upgradeAnswer(url: string, headers: Record<string, string> = {}, protocols?: string[]): Promise<UpgradeAnswer> {
  const ws = new WebSocket(url, protocols, { headers })
  return within(new Promise<UpgradeAnswer>((resolve) => {
    ws.on('open', () => { ws.terminate(); resolve({ status: 101 }) })
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (chunk) => { body += String(chunk) })
      res.on('end', () => {
        const code = (JSON.parse(body) as { code?: string }).code
        resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'], code })
      })
    })
    ws.on('error', () => resolve({ status: -1 }))
  }), 'the upgrade answer')
}

export const upgradeStatus = async (url: string, headers: Record<string, string> = {}, protocols?: string[]): Promise<number> =>
  (await upgradeAnswer(url, headers, protocols)).status
