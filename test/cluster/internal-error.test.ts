// The internal-error suite again on three nodes: a publish whose handling fails must not hold up the acks behind it.
import { asThreeNodeCluster } from '../support/cluster-suite.js'

await asThreeNodeCluster()
await import('../internal-error.test.js')
