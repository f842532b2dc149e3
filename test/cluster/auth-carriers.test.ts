// The credential carriers suite again, each test on three nodes of one cluster: headers, query and subprotocol accepted alike on every node.
import { asThreeNodeCluster } from '../support/cluster-suite.js'

await asThreeNodeCluster()
await import('../auth/carriers.test.js')
