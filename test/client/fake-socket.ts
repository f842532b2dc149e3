import type { SocketLike, WebSocketConstructor } from '../../src/client/socket.js'
import { within } from '../helpers.js'

/** A socket the test drives by hand: it opens, answers and drops when told to. */
export class FakeSocket implements SocketLike {
  readyState = 0
  readonly sent: Record<string, unknown>[] = []
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  private readonly waiters: ((frame: Record<string, unknown>) => void)[] = []
  private read = 0

  constructor(readonly url: string, readonly protocols: string[] = []) {}

  send(text: string): void {
    const frame = JSON.parse(text) as Record<string, unknown>
    this.sent.push(frame)
    this.waiters.shift()?.(frame)
  }

  close(): void {
    this.readyState = 3
  }

  open(): void {
    this.readyState = 1
    this.onopen?.({})
  }

  /** Delivers a server frame, with ts filled in. */
  receive(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify({ ts: '2026-01-01T00:00:00.000Z', ...frame }) })
  }

  event(topic: string, seq: number, payload: unknown = seq): void {
    this.receive({ type: 'event', topic, seq, message: { id: `m${seq}`, payload } })
  }

  /** The server side went away. */
  drop(code = 1006): void {
    this.readyState = 3
    this.onclose?.({ code, reason: '' })
  }

  /** The next frame the client sent that the test has not read yet. */
  next(): Promise<Record<string, unknown>> {
    const frame = this.sent[this.read]
    if (frame) {
      this.read++
      return Promise.resolve(frame)
    }
    return within(new Promise((resolve) => this.waiters.push((f) => {
      this.read++
      resolve(f)
    })), 'a frame from the client')
  }
}

/** A WebSocket constructor whose sockets the test can await one by one. */
export function fakeWebSocket(): { WebSocket: WebSocketConstructor; sockets: FakeSocket[]; nextSocket(): Promise<FakeSocket> } {
  const sockets: FakeSocket[] = []
  const waiters: ((socket: FakeSocket) => void)[] = []
  let taken = 0
  class WebSocket extends FakeSocket {
    constructor(url: string, protocols?: string[]) {
      super(url, protocols)
      sockets.push(this)
      waiters.shift()?.(this)
    }
  }
  const nextSocket = (): Promise<FakeSocket> => {
    const socket = sockets[taken]
    if (socket) {
      taken++
      return Promise.resolve(socket)
    }
    return within(new Promise((resolve) => waiters.push((s) => {
      taken++
      resolve(s)
    })), 'the client to open a socket')
  }
  return { WebSocket, sockets, nextSocket }
}
