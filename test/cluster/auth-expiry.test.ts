// The token expiry and refresh suite again, each test on three nodes of one cluster: a connection ends with its token on whichever node holds it.
import { asThreeNodeCluster } from '../support/cluster-suite.js'

await asThreeNodeCluster()
await import('../auth/expiry.test.js')
