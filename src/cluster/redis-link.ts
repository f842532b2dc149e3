import { createHash } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import type { Logger } from '../log.js'

/** A script and its SHA-1, the name EVALSHA runs it by. */
export type Script = { text: string; sha: string }

export const script = (text: string): Script => ({ text, sha: createHash('sha1').update(text).digest('hex') })

/** How long a command may wait for Redis before the request fails as unavailable. */
const COMMAND_TIMEOUT_MS = 2_000
const LONGEST_RECONNECT_DELAY_MS = 1_000

/**
 * A command is sent at once or fails at once: nothing is queued while Redis is
 * away, nothing is re-sent after a reconnect (a publish re-sent could be stored
 * twice), and a command in flight when the connection drops fails.
 */
const OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  // The engine subscribes again itself, so that it knows when to catch up.
  autoResubscribe: false,
  commandTimeout: COMMAND_TIMEOUT_MS,
  retryStrategy: (attempt) => Math.min(attempt * 100, LONGEST_RECONNECT_DELAY_MS),
}

/**
 * The node's two connections to Redis: one for commands and scripts, one in
 * subscriber mode for the channels of the topics this node has subscribers for.
 */
export class RedisLink {
  readonly commands: Redis
  readonly subscriptions: Redis
  private wasAvailable = false
  /** True once this connection's Redis has loaded every script, so EVALSHA finds them. */
  private scriptsLoaded = false
  /** Counts the command connection's connections, so a load finishing after a drop is not believed. */
  private connections = 0

  constructor(url: string, private readonly scripts: Script[], private readonly log: Logger) {
    this.commands = new Redis(url, { ...OPTIONS, connectionName: 'pubsub-commands' })
    this.subscriptions = new Redis(url, { ...OPTIONS, connectionName: 'pubsub-subscriptions' })
    for (const connection of [this.commands, this.subscriptions]) {
      // Without a listener an 'error' event would end the process; reconnecting is ioredis's job.
      connection.on('error', (error: Error) => log.debug('redis connection error', { error: error.message }))
      connection.on('ready', () => this.noteAvailability())
      connection.on('close', () => this.noteAvailability())
    }
    this.commands.on('ready', () => void this.loadScripts())
    this.commands.on('close', () => {
      this.scriptsLoaded = false
      this.connections++
    })
  }

  available(): boolean {
    return this.commands.status === 'ready' && this.subscriptions.status === 'ready'
  }

  /** Resolves once both connections are ready, or after `ms` (the node then starts unavailable). */
  async ready(ms: number): Promise<void> {
    const deadline = Date.now() + ms
    while (!this.available() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  }

  /**
   * Runs a script: by its whole text until Redis has loaded the scripts on
   * this connection, then by its SHA-1. Commands on a connection run in the
   * order sent, so every EVALSHA sent after the loads finds its script: a
   * retry after NOSCRIPT would be sent after later commands, and publishes
   * of one client could get their seqs out of order.
   */
  async run(s: Script, keys: string[], args: (string | number | Buffer)[]): Promise<unknown> {
    if (!this.scriptsLoaded) return this.commands.callBuffer('EVAL', s.text, keys.length, ...keys, ...args)
    try {
      return await this.commands.callBuffer('EVALSHA', s.sha, keys.length, ...keys, ...args)
    } catch (error) {
      // Only if someone flushed Redis's scripts under a live connection.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      this.scriptsLoaded = false
      void this.loadScripts()
      return await this.commands.callBuffer('EVAL', s.text, keys.length, ...keys, ...args)
    }
  }

  /**
   * Runs the scripts in the order given, their commands leaving in one
   * write: Redis then reads them at once, and answers (and publishes to
   * every node) in one write too.
   */
  runAll(calls: { script: Script; keys: string[]; args: (string | number | Buffer)[] }[]): Promise<unknown>[] {
    // Before the first connection there is no stream; the commands then fail at once.
    const stream = this.commands.status === 'ready' ? this.commands.stream : undefined
    stream?.cork()
    try {
      return calls.map((call) => this.run(call.script, call.keys, call.args))
    } finally {
      stream?.uncork()
    }
  }

  private async loadScripts(): Promise<void> {
    const connection = this.connections
    try {
      await Promise.all(this.scripts.map((s) => this.commands.script('LOAD', s.text)))
      if (connection === this.connections) this.scriptsLoaded = true
    } catch {
      // The connection dropped: the next 'ready' loads them again.
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.commands, this.subscriptions].map((c) => c.quit().catch(() => c.disconnect())))
  }

  private noteAvailability(): void {
    const available = this.available()
    if (available === this.wasAvailable) return
    this.wasAvailable = available
    if (available) this.log.info('redis available')
    else this.log.warn('redis unavailable: publishing, creating and deleting topics fail until it is back')
  }
}
