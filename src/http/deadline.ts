/**
 * A run's deadline: one AbortSignal that aborts when the time is up, and knows when that is. Everything the run
 * does (source calls, their retries and rate-limit waits, write-back) listens on the same signal, so nothing can
 * outlive the run; and a wait that cannot fit in the time left (a vendor's Retry-After) is given up at once.
 */

const deadlines = new WeakMap<AbortSignal, number>()

export interface Deadline {
  readonly signal: AbortSignal
  /** When it passes, ms since the epoch. */
  readonly at: number
  /** Aborts now, with this reason (e.g. the caller went away). */
  abort(reason: Error): void
  /** Stops the timer (the run is over). */
  clear(): void
}

export const startDeadline = (ms: number, reason: () => Error, now: () => number = Date.now): Deadline => {
  const controller = new AbortController()
  const at = now() + ms
  deadlines.set(controller.signal, at)
  const timer = setTimeout(() => controller.abort(reason()), ms)
  return {
    signal: controller.signal,
    at,
    abort: (why) => controller.abort(why),
    clear: () => clearTimeout(timer),
  }
}

/** Time left before the signal's deadline, in ms; Infinity for a signal that is not a deadline (or none). */
export const timeLeftMs = (signal: AbortSignal | undefined, now: number = Date.now()): number => {
  const at = signal === undefined ? undefined : deadlines.get(signal)
  return at === undefined ? Infinity : at - now
}
