/** Rethrown outside the client's own call stack, so a throwing app callback cannot break the connection's bookkeeping. */
export const rethrowLater = (error: unknown): void => {
  setTimeout(() => {
    throw error
  })
}

/** A minimal typed event emitter: the browser build carries no Node `events` module. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners: { [K in keyof Events]?: ((value: Events[K]) => void)[] } = {}

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): () => void {
    const list = (this.listeners[name] ??= [])
    list.push(listener)
    return () => {
      const at = list.indexOf(listener)
      if (at >= 0) list.splice(at, 1)
    }
  }

  protected emit<K extends keyof Events>(name: K, value: Events[K]): void {
    for (const listener of [...(this.listeners[name] ?? [])]) {
      try {
        listener(value)
      } catch (error) {
        rethrowLater(error)
      }
    }
  }
}
