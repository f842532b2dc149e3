// The REST suite again, each test on three nodes of one cluster, its requests spread over them.
import { asThreeNodeCluster } from '../support/cluster-suite.js'

await asThreeNodeCluster()
await import('../rest.test.js')
