// The access-control roles suite again, each test on three nodes of one cluster: the same grants and refusals on every node.
import { asThreeNodeCluster } from '../support/cluster-suite.js'

await asThreeNodeCluster()
await import('../auth/roles.test.js')
