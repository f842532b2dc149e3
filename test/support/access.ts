import { OPEN } from '../../src/auth/access.js'
import { Authenticator, newRefusalCounts } from '../../src/auth/authenticator.js'
import type { AccessDeps } from '../../src/http/auth.js'
import type { ConnectionAuth } from '../../src/ws/connection.js'

/** Access for parts built by hand in a test: an open server, as with neither API_KEY nor AUTH_FILE. */
export const openAccess = (): AccessDeps => ({ authenticator: new Authenticator(undefined, undefined), refusals: newRefusalCounts(), now: Date.now })

export const OPEN_AUTH: ConnectionAuth = { principal: OPEN, credential: undefined }
