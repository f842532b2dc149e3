import type { Engine } from '../broker/engine.js'
import { frameText } from '../frame.js'
import type { GatewayCounts } from './metrics.js'
import { checkMessageBody, checkReplayQuery, isRecord, isTopicName, TOPIC_RULE, type Failure } from '../protocol.js'
import { json, problem, statusOf, type Handler, type Reply, type RequestContext } from './respond.js'
import { Router } from './router.js'

/** What the REST routes read from the rest of the server. */
export type RouteDeps = {
  broker: Engine
  connections(): number
  gatewayCounts(): GatewayCounts
  isShuttingDown(): boolean
  uptimeSec(): number
}

const failed = (error: Failure): Reply => problem(statusOf(error.code), error.code, error.message)

const badTopicInPath = (name: string): Reply =>
  problem(400, 'BAD_REQUEST', `topic name '${name}' is invalid: it ${TOPIC_RULE}`)

/** Runs `handle` only for a valid topic name in the path. */
const withTopic = (handle: (topic: string, ctx: RequestContext) => Reply | Promise<Reply>): Handler =>
  (ctx) => {
    const name = ctx.params.name ?? ''
    return isTopicName(name) ? handle(name, ctx) : badTopicInPath(name)
  }

/** The REST table: one small handler per row of the contract. */
export function createRoutes(deps: RouteDeps): Router<Handler> {
  const { broker } = deps
  const router = new Router<Handler>()

  router.add('POST', '/topics', async (ctx) => {
    const body = await ctx.readBody()
    if (!body.ok) return body.reply
    if (!isRecord(body.value)) return problem(400, 'BAD_REQUEST', `request body must be an object such as {"name":"orders"}`)
    const name = body.value.name
    if (!isTopicName(name)) return problem(400, 'BAD_REQUEST', `'name' ${TOPIC_RULE}`)
    const created = await broker.createTopic(name)
    return created.ok ? json(201, { status: 'created', topic: name }) : failed(created.error)
  })

  router.add('GET', '/topics', async () => {
    const topics = await broker.listTopics()
    return topics.ok ? json(200, { topics: topics.value }) : failed(topics.error)
  })

  router.add('GET', '/topics/:name', withTopic(async (name) => {
    const info = await broker.topicInfo(name)
    if (!info.ok) return failed(info.error)
    const { epoch, seq, firstSeq, subscribers } = info.value
    return json(200, { name, epoch, seq, first_seq: firstSeq, subscribers })
  }))

  router.add('DELETE', '/topics/:name', withTopic(async (name) => {
    const deleted = await broker.deleteTopic(name)
    return deleted.ok ? json(200, { status: 'deleted', topic: name }) : failed(deleted.error)
  }))

  router.add('POST', '/topics/:name/messages', withTopic(async (name, ctx) => {
    const body = await ctx.readBody()
    if (!body.ok) return body.reply
    const message = checkMessageBody(body.value, 'body')
    if (!message.ok) return failed(message.error)
    const published = await broker.publish(name, message.value, true)
    if (!published.ok) return failed(published.error)
    const { id, seq, epoch, subscribers } = published.value
    return json(200, { status: 'published', topic: name, message_id: id, seq, epoch, subscribers })
  }))

  router.add('GET', '/topics/:name/messages', withTopic(async (name, ctx) => {
    const request = checkReplayQuery(ctx.query)
    if (!request.ok) return failed(request.error)
    const replay = await broker.history(name, request.value)
    if (!replay.ok) return failed(replay.error)
    const { epoch, seq, events, resume } = replay.value
    const head = JSON.stringify({ topic: name, epoch, seq, ...resume })
    // The held events are already encoded: splice their JSON in rather than parse and re-encode.
    const bytes = `${head.slice(0, -1)},"events":[${events.map(frameText).join(',')}]}`
    return { status: 200, raw: { contentType: 'application/json', bytes } }
  }))

  router.add('GET', '/health', () => {
    const status = deps.isShuttingDown() ? 'shutting_down' : broker.available() ? 'ok' : 'unavailable'
    return json(status === 'ok' ? 200 : 503, {
      status,
      ...(broker.nodeId === undefined ? {} : { node_id: broker.nodeId }),
      uptime_sec: deps.uptimeSec(),
      topics: broker.topicCount,
      subscribers: broker.subscriptions,
      connections: deps.connections(),
    })
  })

  router.add('GET', '/stats', async () => {
    const result = await broker.stats()
    if (!result.ok) return failed(result.error)
    const stats = result.value
    const gateway = deps.gatewayCounts()
    return json(200, {
      topics: Object.fromEntries(stats.topics.map((t) => [t.name, { messages: t.messages, subscribers: t.subscribers }])),
      connections: deps.connections(),
      connections_refused: gateway.connectionsRefused,
      slow_consumers: gateway.slowConsumers,
      subscriptions: stats.subscriptions,
      messages_published: stats.messagesPublished,
      messages_delivered: stats.messagesDelivered,
      uptime_sec: deps.uptimeSec(),
    })
  })

  // A plain request to the WebSocket path says how to use it instead of a bare 404.
  router.add('GET', '/ws', () =>
    problem(426, 'UPGRADE_REQUIRED', '/ws is a WebSocket endpoint; open it with a WebSocket upgrade', { Upgrade: 'websocket' }))

  return router
}
