// The resume suite over REST again, each test on three nodes of one cluster, its requests spread over them.
import { asThreeNodeCluster } from '../support/cluster-suite.js'

await asThreeNodeCluster()
await import('../resume/rest.test.js')
