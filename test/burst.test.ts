import test from 'node:test'
import { connect, createTopic, startServer, subscribedClient, within, type Frame } from './helpers.js'
import { SeqLedger } from './seq-ledger.js'

// The limit is low so that one turn's worth of events (a single 64 KiB read holds ~900 publishes) passes it.
test('a subscriber that keeps reading is not dropped as slow when a publish burst lands in one turn', async (t) => {
  const server = await startServer(t, { maxBufferedBytes: 65_536 })
  await createTopic(server.url, 'burst')
  const subscriber = await subscribedClient(t, server.wsUrl, 'burst')
  const publisher = await connect(t, server.wsUrl)
  const total = 5_000
  const ledger = new SeqLedger()
  ledger.expect('burst', 0)
  const all = new Promise<void>((resolve, reject) => {
    subscriber.ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame
      if (frame.type !== 'event') return reject(new Error(`the subscriber got ${String(data)} after ${ledger.checked} events`))
      ledger.record(frame)
      if (ledger.checked === total) resolve()
    })
  })
  for (let i = 0; i < total; i++) publisher.send({ type: 'publish', topic: 'burst', message: { payload: i } })
  await within(all, `all ${total} events`)
})
