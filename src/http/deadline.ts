/**
 * A run's deadline: when it passes (`at`), and one AbortSignal that aborts then. Everything the run does (source
 * calls, their retries and rate-limit waits, write-back) listens on the same signal and is handed `at`, so nothing
 * can outlive the run, and a wait that cannot fit in the time left (a vendor's Retry-After) is given up at once.
 *
 * The signal and its timer are made when something first reads `signal`: a run on the embedded sources alone, with
 * no write-back, never does. Keep it a class (not an object literal with a getter): see docs/performance.md.
 */
import { setMaxListeners } from 'node:events'

export class Deadline {
  /** When it passes, ms since the epoch. */
  readonly at: number
  readonly #reason: () => Error
  readonly #now: () => number
  #controller: AbortController | undefined
  #timer: NodeJS.Timeout | undefined
  #abortedWith: Error | undefined
  #cleared = false

  constructor(ms: number, reason: () => Error, now: () => number = Date.now) {
    this.at = now() + ms
    this.#reason = reason
    this.#now = now
  }

  /** Made on first read; already aborted if the time is up or abort() came first. */
  get signal(): AbortSignal {
    if (this.#controller !== undefined) return this.#controller.signal
    const controller = (this.#controller = new AbortController())
    // Every lookup of a run (thousands, for an array of indicators) listens on the one signal: no listener warning.
    setMaxListeners(0, controller.signal)
    const left = this.at - this.#now()
    if (this.#abortedWith !== undefined) controller.abort(this.#abortedWith)
    else if (left <= 0) controller.abort(this.#reason())
    else if (!this.#cleared) this.#timer = setTimeout(() => controller.abort(this.#reason()), left)
    return controller.signal
  }

  /** Aborts now, with this reason (e.g. the caller went away). */
  abort(reason: Error): void {
    if (this.#controller === undefined) this.#abortedWith ??= reason
    else this.#controller.abort(reason)
  }

  /** Stops the timer (the run is over). */
  clear(): void {
    this.#cleared = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
  }
}

export const startDeadline = (ms: number, reason: () => Error, now: () => number = Date.now): Deadline =>
  new Deadline(ms, reason, now)
