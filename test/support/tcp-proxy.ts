import { createServer, connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'

export type TcpProxy = {
  port: number
  /** Connections open through the proxy right now. */
  readonly open: number
  /** Destroys every connection at once, as a network failure would: no close frame, no FIN handshake. */
  cutAll(): number
  /** Destroys one open connection picked by the caller's index. */
  cut(index: number): boolean
  /** While true, every new connection is accepted and reset at once: the server looks unreachable. */
  refusing: boolean
}

/** A TCP relay to 127.0.0.1:`targetPort` whose connections a test can cut; closed after the test. */
export async function startProxy(t: TestContext, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>()
  let refusing = false
  const server = createServer((inbound) => {
    if (refusing) return void inbound.resetAndDestroy()
    const outbound = connect(targetPort, '127.0.0.1')
    const pair: [Socket, Socket] = [inbound, outbound]
    pairs.add(pair)
    const end = (): void => {
      pairs.delete(pair)
      inbound.destroy()
      outbound.destroy()
    }
    for (const socket of pair) {
      socket.setNoDelay(true)
      socket.on('error', end)
      socket.on('close', end)
    }
    inbound.pipe(outbound)
    outbound.pipe(inbound)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    for (const [inbound, outbound] of pairs) {
      inbound.destroy()
      outbound.destroy()
    }
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const destroy = (pair: [Socket, Socket]): void => {
    pairs.delete(pair)
    pair[0].resetAndDestroy()
    pair[1].destroy()
  }
  return {
    port: (server.address() as AddressInfo).port,
    get open() {
      return pairs.size
    },
    get refusing() {
      return refusing
    },
    set refusing(value: boolean) {
      refusing = value
    },
    cutAll() {
      const all = [...pairs]
      all.forEach(destroy)
      return all.length
    },
    cut(index) {
      const pair = [...pairs][index]
      if (pair) destroy(pair)
      return pair !== undefined
    },
  }
}
