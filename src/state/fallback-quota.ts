/**
 * The shared quota with its fallback: Redis while it answers; when it does not, this replica's share of each window
 * (`REPLICAS`: the fleet's size) counted in process, so the fleet as a whole still stays under the vendor's quota.
 * On losing Redis a replica assumes the worst: that the fleet spent the whole window just now (it cannot know
 * otherwise), so its share starts once that window has passed. When Redis answers again, its count takes over.
 */
import type { RateLimit } from '../config/rate-limit.js'
import { systemClock, type Clock } from '../util/clock.js'
import { MemoryQuota, type Quota, type QuotaAnswer, type QuotaUsage } from './quota.js'

/** One replica's share of a window: the calls divided by the replicas, or, under one call each, a longer window. */
export const shareOf = (window: RateLimit, replicas: number): RateLimit => {
  const calls = window.requests / Math.max(1, replicas)
  return calls >= 1
    ? { requests: Math.floor(calls), perMs: window.perMs }
    : { requests: 1, perMs: Math.ceil(window.perMs / calls) }
}

const LOCAL = 'l:'
const SHARED = 's:'

export class FallbackQuota implements Quota {
  readonly #shared: Quota
  readonly #replicas: number
  readonly #clock: Clock
  #local: MemoryQuota
  /** Keys whose windows were counted as spent since Redis was lost (cleared when it answers again). */
  readonly #spent = new Set<string>()
  readonly #onFallback: (err: unknown) => void

  constructor(shared: Quota, replicas: number, options: { clock?: Clock; onFallback?: (err: unknown) => void } = {}) {
    this.#shared = shared
    this.#replicas = replicas
    this.#clock = options.clock ?? systemClock
    this.#local = new MemoryQuota(this.#clock)
    this.#onFallback = options.onFallback ?? (() => undefined)
  }

  async take(key: string, windows: readonly RateLimit[], maxCallMs: number): Promise<QuotaAnswer> {
    try {
      const answer = await this.#shared.take(key, windows, maxCallMs)
      if (this.#spent.size > 0) {
        // Redis is back: its count holds again; the next outage starts from the worst case anew.
        this.#spent.clear()
        this.#local = new MemoryQuota(this.#clock)
      }
      return answer.granted ? { granted: true, ticket: SHARED + answer.ticket } : answer
    } catch (err) {
      this.#onFallback(err)
      const shares = windows.map((w) => shareOf(w, this.#replicas))
      if (!this.#spent.has(key)) {
        this.#spent.add(key)
        this.#local.spendUntil(key, shares, this.#clock.now())
      }
      const answer = await this.#local.take(key, shares, maxCallMs)
      return answer.granted ? { granted: true, ticket: LOCAL + answer.ticket } : answer
    }
  }

  async settle(key: string, windows: readonly RateLimit[], ticket: string): Promise<void> {
    if (ticket.startsWith(LOCAL)) {
      await this.#local.settle(
        key,
        windows.map((w) => shareOf(w, this.#replicas)),
        ticket.slice(LOCAL.length),
      )
      return
    }
    // A settle that does not reach Redis leaves the call counted until its latest possible end: on the safe side.
    await this.#shared.settle(key, windows, ticket.slice(SHARED.length)).catch(() => undefined)
  }

  async pause(key: string, ms: number): Promise<void> {
    await Promise.all([this.#local.pause(key, ms), this.#shared.pause(key, ms).catch(() => undefined)])
  }

  /** Redis's count while it answers; otherwise this replica's share, counted here. */
  async usage(key: string, windows: readonly RateLimit[]): Promise<QuotaUsage> {
    try {
      return await this.#shared.usage(key, windows)
    } catch {
      return this.#local.usage(
        key,
        windows.map((w) => shareOf(w, this.#replicas)),
      )
    }
  }
}
