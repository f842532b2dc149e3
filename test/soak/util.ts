/** Small helpers of the soak run: randomness, waiting, and REST calls. */

export const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T

export const between = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1))

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** True when `promise` settles within `ms`; the timer never outlives the wait. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  try {
    return await Promise.race([promise.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

export async function rest(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
  return { status: res.status, body: await res.json() }
}
