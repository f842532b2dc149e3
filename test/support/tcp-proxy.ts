import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import type { TestContext } from 'node:test'

export type TcpProxy = {
  port: number
  /** Where new connections go: a port of 127.0.0.1; changing it leaves open connections alone. */
  target: number
  /** While true, every new connection is accepted and reset at once: the server looks unreachable. */
  refusing: boolean
  /** Connections open through the proxy right now. */
  readonly open: number
  /** Destroys every open connection at once, as a network failure would: no close frame. Returns how many. */
  cutAll(): number
}

type Pair = [inbound: Socket, outbound: Socket]

/** A TCP relay to 127.0.0.1 whose connections a test can cut; closed after the test. */
export async function startProxy(t: TestContext, target: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>()
  const destroy = (pair: Pair): void => {
    pairs.delete(pair)
    pair[0].resetAndDestroy()
    pair[1].destroy()
  }
  const proxy: TcpProxy = {
    port: 0,
    target,
    refusing: false,
    get open() {
      return pairs.size
    },
    cutAll() {
      const all = [...pairs]
      all.forEach(destroy)
      return all.length
    },
  }
  const server = createServer((inbound) => {
    if (proxy.refusing) return void inbound.resetAndDestroy()
    const pair: Pair = [inbound, connect(proxy.target, '127.0.0.1')]
    pairs.add(pair)
    for (const socket of pair) {
      socket.setNoDelay(true)
      socket.on('error', () => destroy(pair))
      socket.on('close', () => destroy(pair))
    }
    pair[0].pipe(pair[1])
    pair[1].pipe(pair[0])
  })
  // A deep backlog: a test may reconnect thousands of clients at once.
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve))
  t.after(() => {
    for (const pair of pairs) destroy(pair)
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  proxy.port = (server.address() as AddressInfo).port
  return proxy
}
