import { readFileSync } from 'node:fs'
import type { Server } from 'node:net'
import type { Logger } from './log.js'

/** Descriptors kept free for everything that is not a client socket: stdio, the listener, epoll, files. */
const RESERVED_FILES = 32
/** At most one log line per this long, however many connections are refused. */
const LOG_EVERY_MS = 1_000

/** The soft open-file limit of this process, where the system tells it (Linux). */
export function openFileLimit(limitsText = readLimits()): number | undefined {
  const match = /^Max open files\s+(\d+)/m.exec(limitsText ?? '')
  return match ? Number(match[1]) : undefined
}

function readLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8')
  } catch {
    return undefined
  }
}

/**
 * Caps connections below the open-file limit. Past the limit the kernel still
 * completes handshakes and the event loop closes what it cannot accept without
 * telling anyone; under the cap, Node refuses the extra connection itself and
 * emits 'drop', which is logged (throttled) so an operator sees it.
 */
export function capConnections(server: Server, log: Logger, fileLimit = openFileLimit()): void {
  if (fileLimit === undefined) return
  server.maxConnections = Math.max(1, fileLimit - RESERVED_FILES)
  let refused = 0
  let lastLogAt = -Infinity
  server.on('drop', () => {
    refused++
    const now = performance.now()
    if (now - lastLogAt < LOG_EVERY_MS) return
    lastLogAt = now
    log.warn('connection refused: open-file limit reached', { refused, max_connections: server.maxConnections })
    refused = 0
  })
}
