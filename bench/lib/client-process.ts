import { fork, type ChildProcess } from 'node:child_process'

type Report = { type: string }

let clientExecArgv: string[] = []

/** Client processes started from now on write a CPU profile into `dir` when they exit. */
export function profileClientsInto(dir: string): void {
  clientExecArgv = ['--cpu-prof', `--cpu-prof-dir=${dir}`]
}

/**
 * A forked client process and its IPC reports. A `failed` report or an
 * unexpected exit rejects whatever is being awaited and is kept in `failure`.
 */
export class ClientProcess<Command, R extends Report> {
  private readonly child: ChildProcess
  private readonly waiters = new Map<string, { resolve(report: R): void; reject(error: Error): void }>()
  failure: string | undefined
  onReport: ((report: R) => void) | undefined
  private closing = false

  constructor(script: string, readonly name: string) {
    this.child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: clientExecArgv })
    this.child.on('message', (message: R) => this.receive(message))
    // Hanging up races the channel's own end-of-file, which may report ERR_IPC_DISCONNECTED.
    this.child.on('error', (error) => {
      if (!this.closing) this.fail(`${name}: ${error.message}`)
    })
    this.child.on('exit', (code, signal) => {
      if (!this.closing) this.fail(`${name} exited (${signal ?? code})`)
    })
  }

  get pid(): number {
    return this.child.pid as number
  }

  send(command: Command): void {
    if (this.child.connected) this.child.send(command as object)
  }

  wait<T extends R['type']>(type: T, timeoutMs: number): Promise<Extract<R, { type: T }>> {
    if (this.failure) return Promise.reject(new Error(this.failure))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(type)
        reject(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.set(type, {
        resolve: (report) => { clearTimeout(timer); resolve(report as Extract<R, { type: T }>) },
        reject: (error) => { clearTimeout(timer); reject(error) },
      })
    })
  }

  /** Ends the process: closing IPC asks it to exit, a kill makes sure. */
  async close(): Promise<void> {
    this.closing = true
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    if (this.child.connected) this.child.disconnect()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000)
    await exited
    clearTimeout(timer)
  }

  private receive(report: R): void {
    if (report.type === 'failed') return this.fail(`${this.name}: ${(report as unknown as { reason: string }).reason}`)
    const waiter = this.waiters.get(report.type)
    if (waiter) {
      this.waiters.delete(report.type)
      waiter.resolve(report)
    }
    this.onReport?.(report)
  }

  private fail(reason: string): void {
    this.failure ??= reason
    for (const waiter of this.waiters.values()) waiter.reject(new Error(reason))
    this.waiters.clear()
  }
}
