import type { TargetName } from '../targets.js'
import { median } from './stats.js'

/** Every run of a scenario, by target, in round order: run i of two targets ran in the same round. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string }
export type Runs<T> = Partial<Record<TargetName, Outcome<T>[]>>

export const values = <T>(runs: Runs<T>, target: TargetName): T[] =>
  (runs[target] ?? []).flatMap((o) => (o.ok ? [o.value] : []))

export const medianOf = <T>(runs: Runs<T>, target: TargetName, pick: (value: T) => number): number =>
  median(values(runs, target).map(pick))

/**
 * Per round, `combine` of the target's run and the base's run of the same
 * round (a ratio by default), and the median of those; rounds where either
 * failed are left out. Runs next to each other in time share the machine's
 * load, so this is steadier than a ratio of medians on a busy machine.
 */
export function paired<T>(
  runs: Runs<T>, target: TargetName, base: TargetName, pick: (value: T) => number,
  combine: (value: number, baseValue: number) => number = (a, b) => a / b,
): number {
  const baseRuns = runs[base] ?? []
  const combined = (runs[target] ?? []).flatMap((outcome, round) => {
    const other = baseRuns[round]
    return outcome.ok && other?.ok ? [combine(pick(outcome.value), pick(other.value))] : []
  })
  return median(combined)
}
