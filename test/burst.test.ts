import test from 'node:test'
import { connect, createTopic, startServer, subscribedClient, within, type Frame } from './helpers.js'
import { SeqLedger } from './seq-ledger.js'

/**
 * 600 publishes (~40 KB) arrive in one read, so their ~84 KB of events are
 * written within one turn, past the 64 KiB limit. Each burst waits for the
 * previous one to be read: the subscriber shares this event loop, so the
 * kernel's loopback buffers must hold what one burst puts beyond the limit,
 * never the sum of all bursts.
 */
const BURST = 600
const BURSTS = 8

test('a subscriber that keeps reading is not dropped as slow when a publish burst lands in one turn', async (t) => {
  const server = await startServer(t, { maxBufferedBytes: 65_536 })
  await createTopic(server.url, 'burst')
  const subscriber = await subscribedClient(t, server.wsUrl, 'burst')
  const publisher = await connect(t, server.wsUrl)
  const ledger = new SeqLedger()
  ledger.expect('burst', 0)
  let failure: Error | undefined
  let burstRead: (() => void) | undefined
  subscriber.ws.on('message', (data) => {
    try {
      const frame = JSON.parse(String(data)) as Frame
      if (frame.type !== 'event') throw new Error(`the subscriber got ${String(data)} after ${ledger.checked} events`)
      ledger.record(frame)
    } catch (error) {
      failure ??= error as Error
    }
    if (failure || ledger.checked % BURST === 0) burstRead?.()
  })
  for (let burst = 1; burst <= BURSTS; burst++) {
    const read = new Promise<void>((resolve) => (burstRead = resolve))
    for (let i = 0; i < BURST; i++) publisher.send({ type: 'publish', topic: 'burst', message: { payload: i } })
    await within(read, `burst ${burst} of ${BURST} events`)
    if (failure) throw failure
  }
})
