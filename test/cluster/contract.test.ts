// The contract suite (frames and answers against openapi.yaml) again, on three nodes of one cluster.
import { asThreeNodeCluster } from '../support/cluster-suite.js'

await asThreeNodeCluster()
await import('../contract.test.js')
