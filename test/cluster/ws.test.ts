// The WebSocket suite again, each test on three nodes of one cluster, its clients and REST calls spread over them.
import { asThreeNodeCluster } from '../support/cluster-suite.js'

await asThreeNodeCluster()
await import('../ws.test.js')
