// Wires the page: the connection form, subscriptions, publishing, the frame log
// and the live view. Every check happens here before a frame is sent.
// The client library comes from the server's /client.js, loaded on Connect: a
// server run from source without a build has none, and the rest of the page
// still works.
import { checkMessageId, checkStart, checkTopic, parsePayload } from './checks.js'
import { createFrameLog } from './frame-log.js'
import { startLiveView } from './live-view.js'
import { Session } from './session.js'

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new (...args: never[]) => T} type
 * @returns {T}
 */
function byId(id, type) {
  const element = document.getElementById(id)
  if (!(element instanceof type)) throw new Error(`the page has no ${type.name} #${id}`)
  return element
}

const input = (/** @type {string} */ id) => byId(id, HTMLInputElement)
const button = (/** @type {string} */ id) => byId(id, HTMLButtonElement)
const output = (/** @type {string} */ id) => byId(id, HTMLOutputElement)

const connectForm = byId('connect-form', HTMLFormElement)
const subscribeForm = byId('subscribe-form', HTMLFormElement)
const publishForm = byId('publish-form', HTMLFormElement)
const credential = input('credential')
const connectionState = output('connection-state')
const subscriptionRows = byId('subscription-rows', HTMLTableSectionElement)
const subscribeProblem = output('subscribe-problem')
const publishProblem = output('publish-problem')
const publishResult = output('publish-result')
const payload = byId('payload', HTMLTextAreaElement)

const log = createFrameLog({
  list: byId('log', HTMLOListElement),
  filter: input('log-filter'),
  direction: byId('log-direction', HTMLSelectElement),
  pause: button('log-pause'),
  clear: button('log-clear'),
  held: output('log-held'),
})

/** @type {Session | undefined} */
let session
/** @type {(() => void) | undefined} */
let stopLiveView

/** Controls that need an open connection. */
const whileOpen = [button('disconnect'), button('ping'), button('subscribe'), button('publish')]

/** @param {import('./session.js').ConnectionState} state @param {string} detail */
function showConnection(state, detail) {
  const retrying = state === 'disconnected' ? 'retrying with backoff; a refused connection may need a valid credential' : ''
  connectionState.value = [state, detail, retrying].filter(Boolean).join(': ')
  connectionState.dataset.state = state
  for (const control of whileOpen) control.disabled = state !== 'connected'
  button('connect').disabled = state === 'connected'
}

/** @param {import('./session.js').Subscription[]} subscriptions */
function showSubscriptions(subscriptions) {
  subscriptionRows.replaceChildren(
    ...subscriptions.map((s) => {
      const row = document.createElement('tr')
      row.dataset.topic = s.topic
      row.dataset.state = s.state
      for (const text of [s.topic, s.note ? `${s.state}: ${s.note}` : s.state, s.epoch ?? '–', s.lastSeq ?? '–']) {
        const cell = document.createElement('td')
        cell.textContent = String(text)
        row.append(cell)
      }
      const actions = document.createElement('td')
      const unsubscribe = document.createElement('button')
      unsubscribe.type = 'button'
      unsubscribe.textContent = s.state === 'unsubscribed' ? 'Remove' : 'Unsubscribe'
      unsubscribe.setAttribute('aria-label', `${unsubscribe.textContent} ${s.topic}`)
      unsubscribe.addEventListener('click', () => session?.unsubscribe(s.topic))
      actions.append(unsubscribe)
      if (s.epoch !== undefined && s.lastSeq !== undefined) {
        const resume = document.createElement('button')
        resume.type = 'button'
        resume.textContent = 'Use position'
        resume.setAttribute('aria-label', `Fill in the resume position of ${s.topic}`)
        resume.addEventListener('click', () => fillPosition(s.topic, s.epoch ?? '', s.lastSeq ?? 0))
        actions.append(resume)
      }
      row.append(actions)
      return row
    }),
  )
}

/** @param {string} topic @param {string} epoch @param {number} seq */
function fillPosition(topic, epoch, seq) {
  input('sub-topic').value = topic
  input('epoch').value = epoch
  input('since-seq').value = String(seq)
  input('sub-topic').focus()
}

/** @returns {Promise<import('./session.js').CreateClient | undefined>} */
async function loadClient() {
  try {
    /** @type {{ createClient: import('./session.js').CreateClient }} */
    const client = await import('/client.js')
    return client.createClient
  } catch {
    connectionState.value = 'the client library (/client.js) is not built on this server: run npm run build'
    connectionState.dataset.state = 'closed'
    return undefined
  }
}

connectForm.addEventListener('submit', async (event) => {
  event.preventDefault()
  session?.close()
  stopLiveView?.()
  const createClient = await loadClient()
  if (createClient === undefined) return
  const url = new URL('/ws', location.href)
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:'
  const events = { onFrame: log.add, onState: showConnection, onSubscriptions: showSubscriptions }
  session = new Session({ createClient, url: url.href, credential: credential.value, events })
  stopLiveView = startLiveView(credential.value, {
    state: output('live-state'),
    counts: {
      connections: byId('count-connections', HTMLElement),
      subscriptions: byId('count-subscriptions', HTMLElement),
      topics: byId('count-topics', HTMLElement),
      slowConsumers: byId('count-slow', HTMLElement),
      refused: byId('count-refused', HTMLElement),
    },
    rateChart: byId('rate-chart', HTMLElement),
    countChart: byId('count-chart', HTMLElement),
    rateNow: output('rate-now'),
    topics: byId('topic-rows', HTMLTableSectionElement),
  })
})

button('disconnect').addEventListener('click', () => {
  session?.close()
  stopLiveView?.()
  stopLiveView = undefined
})

button('ping').addEventListener('click', () => session?.ping())

subscribeForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const topic = checkTopic(input('sub-topic').value.trim())
  const start = checkStart({ lastN: input('last-n').value.trim(), epoch: input('epoch').value.trim(), sinceSeq: input('since-seq').value.trim() })
  subscribeProblem.value = !topic.ok ? topic.error : !start.ok ? start.error : ''
  if (topic.ok && start.ok) session?.subscribe(topic.value, start.value)
})

publishForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const topic = checkTopic(input('pub-topic').value.trim())
  const id = checkMessageId(input('pub-id').value)
  const body = parsePayload(payload.value)
  const problem = !topic.ok ? topic.error : !id.ok ? id.error : !body.ok ? body.error : ''
  publishProblem.value = problem
  payload.setAttribute('aria-invalid', String(!body.ok))
  if (!session || !topic.ok || !id.ok || !body.ok) return
  publishResult.value = 'publishing…'
  session.publish(topic.value, body.value, id.value).then(
    (ack) => { publishResult.value = `published: seq ${ack.seq}, id ${ack.messageId}` },
    (error) => { publishResult.value = `not published: ${error instanceof Error ? error.message : String(error)}` },
  )
})

showConnection('closed', 'not connected')
