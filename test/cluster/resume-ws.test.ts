// The resume suite over WebSocket again, each test on three nodes of one cluster, its clients spread over them.
import { asThreeNodeCluster } from '../support/cluster-suite.js'

await asThreeNodeCluster()
await import('../resume/ws.test.js')
