/**
 * Time as the limiter and other timing logic see it: a monotonic `now` and timers. Injectable, so tests drive time
 * with a fake clock instead of waiting on the wall clock (which a loaded machine stretches).
 */
export interface ClockTimer {
  /** Lets the process exit while the timer is pending. */
  unref?(): unknown
}

export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): ClockTimer
  clearTimeout(timer: ClockTimer): void
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
}
