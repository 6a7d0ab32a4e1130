/**
 * Per-client circuit breaker: after `failureThreshold` consecutive failed calls the circuit opens and calls fail
 * at once for `coolDownMs`; then ONE trial call goes through (half-open): success closes, failure re-opens.
 * The client decides what a failure is (vendor down or broken, not a 4xx answer).
 */
import { performance } from 'node:perf_hooks'
import { SourceError } from '../errors.js'

export const DEFAULT_BREAKER = { failureThreshold: 5, coolDownMs: 30_000 } as const

export type CircuitState = 'closed' | 'open' | 'half_open'

export interface CircuitBreakerOptions {
  readonly failureThreshold?: number
  readonly coolDownMs?: number
  /** Monotonic clock in ms (injectable for tests). */
  readonly now?: () => number
  /** Told when this breaker opens (not when held open from outside), with how long it stays open. */
  readonly onOpen?: (openMs: number) => void
}

/** An admitted call; report its outcome with exactly one of success/failure/abandon. */
export interface BreakerTicket {
  /** True when this call is the half-open trial. */
  readonly trial: boolean
}

export class CircuitBreaker {
  readonly #threshold: number
  readonly #coolDownMs: number
  readonly #now: () => number
  #consecutiveFailures = 0
  #openedAt: number | undefined
  #trialInFlight = false
  #heldFromOutside = false
  readonly #onOpen: (openMs: number) => void

  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = Math.max(1, options.failureThreshold ?? DEFAULT_BREAKER.failureThreshold)
    this.#coolDownMs = Math.max(0, options.coolDownMs ?? DEFAULT_BREAKER.coolDownMs)
    this.#now = options.now ?? (() => performance.now())
    this.#onOpen = options.onOpen ?? (() => undefined)
  }

  /** Another replica opened its circuit for this vendor: stay open for `ms` too (never shortens an open circuit). */
  holdOpen(ms: number): void {
    const openedAt = this.#now() - this.#coolDownMs + Math.max(0, ms)
    if (this.#openedAt !== undefined && this.#openedAt >= openedAt) return
    this.#openedAt = openedAt
    this.#heldFromOutside = true
  }

  state(): CircuitState {
    if (this.#openedAt === undefined) return 'closed'
    return this.#now() - this.#openedAt >= this.#coolDownMs ? 'half_open' : 'open'
  }

  /** Lets a call through, or throws SourceError('circuit_open', skipped) while open or while a trial runs. */
  admit(): BreakerTicket {
    const state = this.state()
    if (state === 'closed') return { trial: false }
    if (state === 'half_open' && !this.#trialInFlight) {
      this.#trialInFlight = true
      return { trial: true }
    }
    const next =
      state === 'open'
        ? `next trial in ${Math.ceil((this.#coolDownMs - (this.#now() - (this.#openedAt ?? 0))) / 1000)} s`
        : 'a trial call is in progress'
    const why = this.#heldFromOutside
      ? 'another replica found the vendor failing'
      : `${this.#consecutiveFailures} consecutive failures`
    throw new SourceError('circuit_open', `circuit open after ${why}; ${next}`, {
      skipped: true,
    })
  }

  /** The vendor answered: close the circuit. */
  success(ticket: BreakerTicket): void {
    if (ticket.trial) this.#trialInFlight = false
    this.#consecutiveFailures = 0
    this.#openedAt = undefined
    this.#heldFromOutside = false
  }

  /** The vendor is down or broken: count it; open (or re-open after a failed trial) at the threshold. */
  failure(ticket: BreakerTicket): void {
    this.#consecutiveFailures += 1
    if (ticket.trial) this.#trialInFlight = false
    if (ticket.trial || (this.#openedAt === undefined && this.#consecutiveFailures >= this.#threshold)) {
      this.#openedAt = this.#now()
      this.#heldFromOutside = false
      this.#onOpen(this.#coolDownMs)
    }
  }

  /** The call ended without saying anything about the vendor (cancelled, refused by the rate limiter). */
  abandon(ticket: BreakerTicket): void {
    if (ticket.trial) this.#trialInFlight = false
  }
}
