export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

const writeStdout = (line: string): void => {
  process.stdout.write(line + '\n')
}

/** Errors carry their stack into the line; JSON.stringify would drop it. */
const plain = (value: unknown): unknown =>
  value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value

/** One JSON line per call: {ts, level, msg, ...fields}; calls below `level` are dropped. */
export function createLogger(level: LogLevel, write: (line: string) => void = writeStdout, base: LogFields = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(level)
  const emit = (at: LogLevel, msg: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(at) < threshold) return
    const line: LogFields = { ts: new Date().toISOString(), level: at, msg, ...base }
    for (const [key, value] of Object.entries(fields ?? {})) line[key] = plain(value)
    write(JSON.stringify(line))
  }
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(level, write, { ...base, ...fields }),
  }
}
