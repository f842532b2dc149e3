/** The public names both builds export besides createClient. */
export { PubSubClient, type ClientEvents, type ClientOptions, type ClientState, type PublishOptions, type SubscribeOptions, type TopicMap } from './client.js'
export { PubSubError, type ErrorCode } from './errors.js'
export type { Position, PublishAck } from './protocol.js'
export type { CredentialCarrier, SocketLike, WebSocketConstructor } from './socket.js'
export type { PubSubEvent, ResetReason, Subscription, SubscriptionEvents, SubscriptionState } from './subscription.js'
