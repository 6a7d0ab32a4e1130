/**
 * Per-client rate limiter: at most `requests` calls per `perMs`, shared by every caller of the client. Calls
 * queue in FIFO order instead of failing, up to maxWaitMs; a call that would wait longer is refused at once.
 *
 * It is a token bucket whose tokens come back one by one, `perMs` after the call that spent each token ended
 * (a sliding window), rather than a bucket refilled at a steady rate: a steady refill lets a full bucket burst
 * and then keep going, so a vendor counting any `perMs` window would see up to twice the limit. Counting from
 * the end of the call (the vendor saw it somewhere between our send and its answer) is the earliest moment we
 * know the vendor's window no longer holds it.
 */
import { SourceError } from '../errors.js'
import { systemClock, type Clock, type ClockTimer } from '../util/clock.js'
import { cancelledError } from './abort.js'

export const DEFAULT_MAX_WAIT_MS = 30_000

export interface RateLimiterOptions {
  readonly sourceId: string
  /** Tokens per window; omit (or Infinity) for no limit (vendor pauses from response headers still apply). */
  readonly requests?: number
  readonly perMs?: number
  readonly maxWaitMs?: number
  /** Time and timers; the system's unless a test drives its own. */
  readonly clock?: Clock
}

export interface Permit {
  /** How long the call queued for its token. */
  readonly waitedMs: number
  /** Hands the token back once the call has ended (idempotent). */
  release(): void
}

interface Waiter {
  readonly enqueuedAt: number
  readonly grant: (permit: Permit) => void
  readonly fail: (err: SourceError) => void
  readonly cleanup: () => void
}


export class RateLimiter {
  readonly #sourceId: string
  readonly #capacity: number
  readonly #perMs: number
  readonly #maxWaitMs: number
  #inFlight = 0
  /** Ascending times at which tokens handed back become usable again. */
  #returns: number[] = []
  #pausedUntil = 0
  readonly #queue: Waiter[] = []
  #timer: ClockTimer | undefined
  readonly #clock: Clock
  #closed = false

  constructor(options: RateLimiterOptions) {
    const requests = options.requests ?? Number.POSITIVE_INFINITY
    const perMs = options.perMs ?? 0
    if (!(requests >= 1) || (Number.isFinite(requests) && !(perMs >= 1))) {
      throw new Error(`${options.sourceId}: a rate limit needs at least 1 request per at least 1 ms`)
    }
    this.#sourceId = options.sourceId
    this.#capacity = Number.isFinite(requests) ? Math.floor(requests) : requests
    this.#perMs = perMs
    this.#maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS
    this.#clock = options.clock ?? systemClock
  }

  get maxWaitMs(): number {
    return this.#maxWaitMs
  }

  /** Calls waiting for a token. */
  get queued(): number {
    return this.#queue.length
  }

  /** Holds every call back for `ms` (e.g. the vendor said its quota resets then). Never shortens a pause. */
  pauseFor(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + Math.max(0, ms))
    this.#pump()
  }

  /** How long a call made now would wait for its token (an estimate when calls are in flight). */
  estimateWaitMs(): number {
    const now = this.#clock.now()
    if (this.#queue.length === 0 && now >= this.#pausedUntil && this.#free(now) > 0) return 0
    return this.#estimate(now, this.#queue.length)
  }

  /**
   * Resolves with a permit once a token is free. Rejects at once with SourceError('rate_limited', skipped) when
   * the wait would exceed maxWaitMs, and with SourceError('cancelled') when `signal` aborts while queued.
   */
  acquire(signal?: AbortSignal): Promise<Permit> {
    if (this.#closed) return Promise.reject(new SourceError('cancelled', 'cancelled: the client is closed'))
    if (signal?.aborted) return Promise.reject(cancelledError(signal))
    const now = this.#clock.now()
    if (this.#queue.length === 0 && now >= this.#pausedUntil && this.#free(now) > 0) {
      return Promise.resolve(this.#take(0))
    }
    const estimate = this.#estimate(now, this.#queue.length)
    if (estimate > this.#maxWaitMs) return Promise.reject(this.#overLimit(`would wait ${estimate} ms`))

    return new Promise<Permit>((resolve, reject) => {
      const onAbort = (): void => {
        this.#remove(waiter)
        reject(cancelledError(signal))
      }
      // The estimate assumes calls in flight end now; if they run long, still give up at maxWaitMs.
      const deadline = this.#clock.setTimeout(() => {
        this.#remove(waiter)
        reject(this.#overLimit(`waited ${Math.round(this.#clock.now() - now)} ms`))
      }, this.#maxWaitMs + 1)
      const waiter: Waiter = {
        enqueuedAt: now,
        grant: resolve,
        fail: reject,
        cleanup: () => {
          this.#clock.clearTimeout(deadline)
          signal?.removeEventListener('abort', onAbort)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#queue.push(waiter)
      this.#pump()
    })
  }

  /** Fails every queued call with 'cancelled' and stops the timers. */
  close(): void {
    this.#closed = true
    if (this.#timer) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    for (const waiter of this.#queue.splice(0)) {
      waiter.cleanup()
      waiter.fail(new SourceError('cancelled', 'cancelled: the client is closed'))
    }
  }

  #overLimit(what: string): SourceError {
    const limit = Number.isFinite(this.#capacity) ? `${this.#capacity} per ${this.#perMs} ms` : 'vendor pause'
    return new SourceError(
      'rate_limited',
      `${this.#sourceId} rate limit (${limit}): this call ${what}, over the limit of ${this.#maxWaitMs} ms`,
      { skipped: true },
    )
  }

  #free(now: number): number {
    while (this.#returns.length > 0 && (this.#returns[0] as number) <= now) this.#returns.shift()
    return this.#capacity - this.#inFlight - this.#returns.length
  }

  /** When the waiter at queue `position` gets a token, assuming calls in flight end now. */
  #estimate(now: number, position: number): number {
    const start = Math.max(now, this.#pausedUntil)
    if (!Number.isFinite(this.#capacity)) return Math.ceil(start - now)
    const free = Math.max(0, this.#free(now))
    const slots = [
      ...Array.from({ length: free }, () => start),
      ...this.#returns.map((t) => Math.max(t, start)),
      ...Array.from({ length: this.#inFlight }, () => Math.max(now + this.#perMs, start)),
    ].sort((a, b) => a - b)
    const slot = slots[position % this.#capacity] ?? start
    return Math.ceil(slot + Math.floor(position / this.#capacity) * this.#perMs - now)
  }

  #take(waitedMs: number): Permit {
    this.#inFlight += 1
    let released = false
    return {
      waitedMs,
      release: () => {
        if (released) return
        released = true
        this.#inFlight -= 1
        if (Number.isFinite(this.#capacity)) this.#returns.push(this.#clock.now() + this.#perMs)
        this.#pump()
      },
    }
  }

  #remove(waiter: Waiter): void {
    const i = this.#queue.indexOf(waiter)
    if (i >= 0) this.#queue.splice(i, 1)
    waiter.cleanup()
    // A waiter leaving may unblock the ones behind it only through time, which the timer already covers.
  }

  /** Hands free tokens to waiters in order, then sleeps until the next moment one could be free. */
  #pump(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#closed) return
    const now = this.#clock.now()
    while (this.#queue.length > 0 && now >= this.#pausedUntil && this.#free(now) > 0) {
      const waiter = this.#queue.shift() as Waiter
      waiter.cleanup()
      waiter.grant(this.#take(Math.round(now - waiter.enqueuedAt)))
    }
    if (this.#queue.length === 0) return
    // With every token in flight and no pause, the next release() pumps again.
    const wakeAt = now < this.#pausedUntil ? this.#pausedUntil : this.#returns[0]
    if (wakeAt === undefined) return
    this.#timer = this.#clock.setTimeout(() => this.#pump(), Math.max(1, Math.ceil(wakeAt - now)))
  }
}
