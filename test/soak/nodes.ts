import type { LogLine } from '../helpers.js'
import { startRedisServer, type RedisServer } from '../support/redis-server.js'
import { startSoakChild, type SoakChild } from './server-process.js'
import type { Memory } from './server.js'

/**
 * The servers a soak runs against: one in-memory server, or a cluster of
 * nodes on a redis-server of the soak's own. Clients ask for a node each time
 * they connect; a node the soak kills is left out until it is back, as a load
 * balancer would leave it out, and its clients learn from `killed` that their
 * connection ended by the soak's hand, not by the server's.
 */

export type SoakNode = {
  name: string
  url: string
  wsUrl: string
  /** Set just before the soak kills this node's process: its clients were cut, not closed by the server. */
  killed: boolean
}

type Slot = { node: SoakNode; child: SoakChild; everKilled: boolean }

export class SoakNodes {
  private readonly slots: Slot[] = []
  /** Log lines of node processes that are gone, kept for the final check. */
  private readonly pastLogs: LogLine[] = []
  private turn = 0

  private constructor(private readonly env: Record<string, string>, private readonly redis: RedisServer | undefined) {}

  /** One in-memory server (`count` 1), or `count` nodes on a fresh redis-server. */
  static async start(count: number, env: Record<string, string>): Promise<SoakNodes> {
    const redis = count > 1 ? await startRedisServer() : undefined
    const nodes = new SoakNodes(redis ? { ...env, REDIS_URL: redis.url } : env, redis)
    try {
      for (let i = 0; i < count; i++) nodes.slots.push(await nodes.startSlot(`node-${i + 1}`))
    } catch (error) {
      await nodes.stop()
      throw error
    }
    return nodes
  }

  get clustered(): boolean {
    return this.redis !== undefined
  }

  get count(): number {
    return this.slots.length
  }

  /** The next live node, in turn: spreads clients over the nodes as a round-robin balancer does. */
  pick(): SoakNode {
    const live = this.slots.filter((slot) => !slot.node.killed)
    const slot = live[this.turn++ % live.length]
    if (!slot) throw new Error('no node is running')
    return slot.node
  }

  /** The first node, which the soak never kills: for clients whose checks a kill would spoil. */
  survivor(): SoakNode {
    return (this.slots[0] as Slot).node
  }

  /** Kills the last node with SIGKILL, as a crash would, and waits until its process is gone. */
  async killOne(): Promise<SoakNode> {
    const slot = this.slots.at(-1) as Slot
    slot.node.killed = true
    slot.everKilled = true
    await slot.child.kill()
    return slot.node
  }

  /** Starts the killed node again (on a new port): new clients may pick it again. */
  async restartKilled(): Promise<void> {
    const index = this.slots.findIndex((slot) => slot.node.killed)
    const old = this.slots[index]
    if (!old) return
    this.pastLogs.push(...old.child.logs())
    this.slots[index] = { ...(await this.startSlot(old.node.name)), everKilled: true }
  }

  /** Memory of every node that ran the whole soak; a restarted node has no warm-up reading to compare with. */
  async measureSurvivors(): Promise<Map<string, Memory>> {
    const readings = new Map<string, Memory>()
    for (const slot of this.slots) if (!slot.everKilled) readings.set(slot.node.name, await slot.child.measure())
    return readings
  }

  /** Open connections over every live node. */
  async connections(): Promise<number> {
    let total = 0
    for (const slot of this.slots) total += await slot.child.connections()
    return total
  }

  logs(): LogLine[] {
    return [...this.pastLogs, ...this.slots.flatMap((slot) => slot.child.logs())]
  }

  async stop(): Promise<void> {
    for (const slot of this.slots) await slot.child.stop()
    await this.redis?.stop()
  }

  private async startSlot(name: string): Promise<Slot> {
    const child = await startSoakChild(this.env)
    return { node: { name, url: child.url, wsUrl: child.wsUrl, killed: false }, child, everKilled: false }
  }
}
