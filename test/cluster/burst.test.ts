// The burst suite again on three nodes of one cluster.
import { asThreeNodeCluster } from '../support/cluster-suite.js'

await asThreeNodeCluster()
await import('../burst.test.js')
