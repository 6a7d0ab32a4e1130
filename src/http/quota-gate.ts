/**
 * The one rate-limit layer of the request client: a FIFO queue per quota key (an upstream and one API key's
 * fingerprint, or a platform profile) in front of the Quota that counts every window the vendor counts, in this
 * process or for every replica through Redis. Only the head of a key's queue asks the quota. The quota counts a
 * call in flight until its latest possible end, so while this process has calls of the key in flight the queue
 * waits for one to end (or for the quota's wait, if shorter); otherwise, when the quota says wait, every caller who
 * cannot wait that long (over maxWaitMs, or past its run's deadline) is refused at once with rate_limited and the
 * rest keep their turn. A pause (a 429's Retry-After) is the key's alone: another API key of the vendor goes on.
 */
import { SourceError } from '../errors.js'
import type { RateLimit } from '../config/rate-limit.js'
import { formatRateLimit } from '../config/rate-limit.js'
import type { Quota, QuotaUsage } from '../state/quota.js'
import { systemClock, type Clock, type ClockTimer } from '../util/clock.js'
import { cancelledError } from './abort.js'

export const DEFAULT_MAX_WAIT_MS = 30_000

export interface QuotaGateOptions {
  /** The upstream's id, for messages. */
  readonly upstream: string
  readonly quota: Quota
  /** Every window the upstream counts; none: only pauses apply. */
  readonly windows: readonly RateLimit[]
  /** Longest a call queues before it is refused (skipped, rate_limited). */
  readonly maxWaitMs?: number
  /** How long one call may take at most: the quota counts it until then unless it is settled earlier. */
  readonly maxCallMs: number
  readonly clock?: Clock
}

export interface Pass {
  readonly key: string
  /** The quota's record of the call, to settle when it ends; undefined with no windows. */
  readonly ticket: string | undefined
  /** How long the call queued. */
  readonly waitedMs: number
}

interface Waiter {
  readonly enqueuedAt: number
  /** It waited for room or a pause (not merely for its turn to be worked out). */
  held: boolean
  /** Wall-clock ms the caller's run ends (Infinity: no deadline). */
  readonly deadlineAt: number
  readonly grant: (pass: Pass) => void
  readonly fail: (err: SourceError) => void
  readonly signal: AbortSignal | undefined
  readonly onAbort: () => void
}

interface Lane {
  readonly waiters: Waiter[]
  /** Calls of the key granted here and not yet settled. */
  inFlight: number
  running: boolean
  timer: ClockTimer | undefined
  wake: (() => void) | undefined
}

const secondsText = (ms: number): string => `${Math.max(1, Math.ceil(ms / 1000))} s`

export class QuotaGate {
  readonly #upstream: string
  readonly #quota: Quota
  readonly #windows: readonly RateLimit[]
  readonly #maxWaitMs: number
  readonly #maxCallMs: number
  readonly #clock: Clock
  readonly #lanes = new Map<string, Lane>()
  /** The keys asked for lately, newest last (a lane is forgotten when idle; the status page still shows its key). */
  readonly #seen = new Set<string>()
  #closed = false

  constructor(options: QuotaGateOptions) {
    for (const w of options.windows) {
      if (!(w.requests >= 1) || !(w.perMs >= 1))
        throw new Error(`${options.upstream}: a rate limit needs at least 1 request per at least 1 ms`)
    }
    this.#upstream = options.upstream
    this.#quota = options.quota
    this.#windows = options.windows
    this.#maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS
    this.#maxCallMs = options.maxCallMs
    this.#clock = options.clock ?? systemClock
  }

  get maxWaitMs(): number {
    return this.#maxWaitMs
  }

  /** The keys asked for lately (the last 16), oldest first. */
  get seenKeys(): readonly string[] {
    return [...this.#seen]
  }

  /** One key's windows now. */
  usageOf(key: string): Promise<QuotaUsage> {
    return this.#quota.usage(key, this.#windows)
  }

  /** The windows this upstream counts. */
  get windows(): readonly RateLimit[] {
    return this.#windows
  }

  /** Calls waiting for their turn, every key together. */
  get queued(): number {
    let n = 0
    for (const lane of this.#lanes.values()) n += lane.waiters.length
    return n
  }

  /** Waits for the key's turn and one call of its quota; rejects with rate_limited (skipped) or cancelled. */
  acquire(key: string, signal: AbortSignal | undefined, deadlineAt: number | undefined): Promise<Pass> {
    if (signal?.aborted === true) return Promise.reject(cancelledError(signal))
    if (this.#closed) return Promise.reject(new SourceError('cancelled', 'cancelled: the client is closed'))
    this.#seen.delete(key)
    this.#seen.add(key)
    if (this.#seen.size > 16) this.#seen.delete(this.#seen.values().next().value as string)
    let lane = this.#lanes.get(key)
    if (lane === undefined)
      this.#lanes.set(key, (lane = { waiters: [], inFlight: 0, running: false, timer: undefined, wake: undefined }))
    const current = lane
    return new Promise<Pass>((resolve, reject) => {
      const waiter: Waiter = {
        enqueuedAt: this.#clock.now(),
        // Queued behind a sleeping lane: it waits for room or a pause, like those before it.
        held: current.wake !== undefined,
        deadlineAt: deadlineAt ?? Infinity,
        grant: resolve,
        fail: reject,
        signal,
        onAbort: () => {
          this.#drop(current, waiter)
          reject(cancelledError(signal))
        },
      }
      signal?.addEventListener('abort', waiter.onAbort, { once: true })
      current.waiters.push(waiter)
      void this.#pump(key, current)
    })
  }

  /** The call ended now: the quota moves its record from its latest possible end to now; the queue asks again. */
  settle(pass: Pass): void {
    const lane = this.#lanes.get(pass.key)
    const wake = (): void => {
      if (lane === undefined) return
      lane.inFlight -= 1
      lane.wake?.()
      this.#forgetIfIdle(pass.key, lane)
    }
    if (pass.ticket === undefined) wake()
    else
      void this.#quota
        .settle(pass.key, this.#windows, pass.ticket)
        .catch(() => undefined)
        .then(wake)
  }

  #forgetIfIdle(key: string, lane: Lane): void {
    if (lane.waiters.length === 0 && lane.inFlight <= 0 && !lane.running && this.#lanes.get(key) === lane)
      this.#lanes.delete(key)
  }

  /**
   * Nobody calls under `key` for `ms` (the upstream said so); other keys go on. Never shortens a pause. Resolves
   * once the quota holds it, so a retry that follows cannot slip in before it; a store that fails is not waited on.
   */
  async pause(key: string, ms: number): Promise<void> {
    await this.#quota.pause(key, ms).catch(() => undefined)
  }

  /** Fails every queued call with 'cancelled'. */
  close(): void {
    this.#closed = true
    for (const lane of this.#lanes.values()) {
      if (lane.timer !== undefined) this.#clock.clearTimeout(lane.timer)
      lane.wake?.()
      for (const waiter of lane.waiters.splice(0)) {
        waiter.signal?.removeEventListener('abort', waiter.onAbort)
        waiter.fail(new SourceError('cancelled', 'cancelled: the client is closed'))
      }
    }
    this.#lanes.clear()
  }

  #drop(lane: Lane, waiter: Waiter): void {
    const i = lane.waiters.indexOf(waiter)
    if (i >= 0) lane.waiters.splice(i, 1)
    waiter.signal?.removeEventListener('abort', waiter.onAbort)
  }

  /** Serves the key's queue in order; one loop per key at a time. */
  async #pump(key: string, lane: Lane): Promise<void> {
    if (lane.running) return
    lane.running = true
    try {
      while (lane.waiters.length > 0 && !this.#closed) {
        const answer = await this.#quota.take(key, this.#windows, this.#maxCallMs)
        if (this.#closed) return
        const head = lane.waiters[0]
        if (answer.granted) {
          const pass: Pass = { key, ticket: this.#windows.length === 0 ? undefined : answer.ticket, waitedMs: 0 }
          lane.inFlight += 1
          // Granted while the last caller left: the call never goes out, so its record ends now.
          if (head === undefined) {
            this.settle(pass)
            break
          }
          this.#drop(lane, head)
          head.grant({ ...pass, waitedMs: head.held ? Math.round(this.#clock.now() - head.enqueuedAt) : 0 })
          continue
        }
        if (head === undefined) break
        // With calls of the key in flight here, the quota's wait is their worst case: wait for one to end instead.
        let sleepMs = answer.waitMs
        const told = { waitMs: answer.waitMs, paused: answer.paused === true }
        // A pause holds whatever is in flight: only a full window frees up when a call here ends.
        if (lane.inFlight > 0 && !told.paused) sleepMs = Math.min(sleepMs, this.#refuseWhoCannotWait(lane, 0, told))
        else this.#refuseWhoCannotWait(lane, answer.waitMs, told)
        if (lane.waiters.length === 0) break
        for (const waiter of lane.waiters) waiter.held = true
        await new Promise<void>((resolve) => {
          lane.wake = resolve
          lane.timer = this.#clock.setTimeout(resolve, Math.max(1, sleepMs))
        })
        if (lane.timer !== undefined) this.#clock.clearTimeout(lane.timer)
        lane.timer = undefined
        lane.wake = undefined
      }
    } catch (err) {
      // The quota failed (a Redis error FallbackQuota did not absorb): every caller of the key hears it.
      for (const waiter of lane.waiters.splice(0)) {
        waiter.signal?.removeEventListener('abort', waiter.onAbort)
        waiter.fail(new SourceError('internal', `${this.#upstream} quota could not be read: ${(err as Error).message}`))
      }
    } finally {
      lane.running = false
      this.#forgetIfIdle(key, lane)
    }
  }

  /**
   * Everyone in the queue waits at least `waitMs` more: those it would take past their limit hear so now (told the
   * quota's wait). Answers how long until the next of the others reaches its limit, so a sleep never outlasts it.
   */
  #refuseWhoCannotWait(
    lane: Lane,
    waitMs: number,
    told: { readonly waitMs: number; readonly paused: boolean },
  ): number {
    const now = this.#clock.now()
    const wall = Date.now()
    let next = Infinity
    for (const waiter of [...lane.waiters]) {
      const waited = now - waiter.enqueuedAt
      const overWait = waited + waitMs > this.#maxWaitMs
      const overDeadline = wall + waitMs > waiter.deadlineAt
      if (!overWait && !overDeadline) {
        next = Math.min(next, this.#maxWaitMs - waited + 1, waiter.deadlineAt - wall + 1)
        continue
      }
      this.#drop(lane, waiter)
      const why = overWait ? `over the wait of ${this.#maxWaitMs} ms` : "past the run's deadline"
      waiter.fail(this.#refusal(told, why))
    }
    return next
  }

  #refusal(told: { readonly waitMs: number; readonly paused: boolean }, why: string): SourceError {
    const limits = told.paused
      ? 'asked for a pause (HTTP 429)'
      : `quota (${this.#windows.map(formatRateLimit).join(', ')}) is spent`
    const message = `${this.#upstream} ${limits}: the next call is free in ${secondsText(told.waitMs)}, ${why}`
    return new SourceError('rate_limited', message, { skipped: true })
  }
}
