/** Small helpers of the soak run: randomness and waiting. */

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
