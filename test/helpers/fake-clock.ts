/** A clock a test moves by hand: `now` stands still until `advance`, which fires due timers in time order. */
import type { Clock, ClockTimer } from '../../src/util/clock.js'

interface Pending extends ClockTimer {
  at: number
  fn: () => void
  seq: number
  cleared: boolean
}

/** Lets promise continuations scheduled by a timer run before time moves on. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export class FakeClock implements Clock {
  #now = 0
  #seq = 0
  readonly #pending: Pending[] = []

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer: Pending = { at: this.#now + Math.max(0, ms), fn, seq: this.#seq++, cleared: false }
    this.#pending.push(timer)
    return timer
  }

  clearTimeout(timer: ClockTimer): void {
    ;(timer as Pending).cleared = true
  }

  /** Moves time on by `ms`, firing every timer that falls due on the way (and what their callbacks schedule). */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms
    await settle()
    for (;;) {
      const due = this.#pending
        .filter((p) => !p.cleared && p.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (due === undefined) break
      this.#pending.splice(this.#pending.indexOf(due), 1)
      this.#now = due.at
      due.fn()
      await settle()
    }
    this.#now = target
    await settle()
  }
}
