// The limits suite again on three nodes of one cluster: MAX_TOPICS counts the cluster's topics, created through any node.
import { asThreeNodeCluster } from '../support/cluster-suite.js'

await asThreeNodeCluster()
await import('../limits.test.js')
