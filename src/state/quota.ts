/**
 * Vendor quotas: every window a vendor counts (VirusTotal public: 4 a minute and 500 a day), checked together.
 * A call is recorded when it is let through, as if it ended at its latest possible end, and settled to its real end
 * when it ends: the vendor's window holds a call from somewhere between send and answer, so counting from the end is
 * the earliest moment we know it no longer holds it. A pause (429, Retry-After) holds every caller of the key.
 *
 * Two engines behind one interface: MemoryQuota (this process) and RedisQuota (src/state/redis-quota.ts, every
 * replica sharing one count through Redis).
 */
import type { RateLimit } from '../config/rate-limit.js'
import { systemClock, type Clock } from '../util/clock.js'

/** What a quota said: go (with the call's ticket), or wait this long before asking again. */
export type QuotaAnswer =
  | { readonly granted: true; readonly ticket: string }
  /** `paused`: the upstream asked for the wait (a 429); otherwise a window is full. */
  | { readonly granted: false; readonly waitMs: number; readonly paused?: boolean }

export interface Quota {
  /** Asks for one call under `key` (source and key fingerprint). `maxCallMs`: how long the call may take at most. */
  take(key: string, windows: readonly RateLimit[], maxCallMs: number): Promise<QuotaAnswer>
  /** The call ended now: its record moves from its latest possible end to now. */
  settle(key: string, windows: readonly RateLimit[], ticket: string): Promise<void>
  /** Nobody calls under `key` for `ms` (never shortens a pause already set). */
  pause(key: string, ms: number): Promise<void>
  /** How much of each window `key` holds now, and how long it stays paused (the status page; never changes it). */
  usage(key: string, windows: readonly RateLimit[]): Promise<QuotaUsage>
}

export interface QuotaUsage {
  /** Per window, in the order asked: the calls it holds now (in flight count until they end). */
  readonly windows: readonly { readonly requests: number; readonly perMs: number; readonly used: number }[]
  /** 0 unless a 429 paused the key. */
  readonly pausedMs: number
}

interface Record {
  endsAt: number
}

/** How long until the window has room for one more call; 0 when it has room now. */
const windowWaitMs = (ends: readonly number[], limit: number, windowMs: number, now: number): number => {
  const live = ends.filter((end) => end > now - windowMs).sort((a, b) => a - b)
  if (live.length < limit) return 0
  // Room comes when the (live - limit)th oldest call leaves the window.
  return (live[live.length - limit] as number) + windowMs - now + 1
}

/**
 * The calls one window of one key holds, by ticket, oldest first. Each take and settle is O(1) amortised: calls are
 * forgotten from the oldest end, and the window is only sorted when it is full (a paid plan's 1,000 a minute made a
 * sort of every recorded call on every call).
 */
class WindowCalls {
  readonly #calls = new Map<string, Record>()

  /** Forgets the oldest calls that left the window. One settled early behind a newer one waits its turn. */
  /** Calls that still count at `now` in a window of `windowMs`. */
  countSince(cutoff: number): number {
    let n = 0
    for (const call of this.#calls.values()) if (call.endsAt > cutoff) n++
    return n
  }

  forgetBefore(cutoff: number): void {
    for (const [ticket, call] of this.#calls) {
      if (call.endsAt > cutoff) return
      this.#calls.delete(ticket)
    }
  }

  /** 0 when below the limit by count alone (even counting calls not yet forgotten); else worked out exactly. */
  waitMs(limit: number, windowMs: number, now: number): number {
    if (this.#calls.size < limit) return 0
    return windowWaitMs(
      Array.from(this.#calls.values(), (c) => c.endsAt),
      limit,
      windowMs,
      now,
    )
  }

  add(ticket: string, endsAt: number): void {
    this.#calls.set(ticket, { endsAt })
  }

  settle(ticket: string, now: number): void {
    const call = this.#calls.get(ticket)
    if (call !== undefined) call.endsAt = Math.min(call.endsAt, now)
  }
}

export class MemoryQuota implements Quota {
  readonly #windows = new Map<string, WindowCalls>()
  readonly #pausedUntil = new Map<string, number>()
  readonly #clock: Clock
  #next = 0

  constructor(clock: Clock = systemClock) {
    this.#clock = clock
  }

  #window(key: string, windowMs: number): WindowCalls {
    const id = `${key}\u0000${windowMs}`
    let calls = this.#windows.get(id)
    if (calls === undefined) this.#windows.set(id, (calls = new WindowCalls()))
    return calls
  }

  take(key: string, windows: readonly RateLimit[], maxCallMs: number): Promise<QuotaAnswer> {
    const now = this.#clock.now()
    const paused = (this.#pausedUntil.get(key) ?? 0) - now
    if (paused > 0) return Promise.resolve({ granted: false, waitMs: Math.ceil(paused), paused: true })
    let waitMs = 0
    for (const w of windows) {
      const calls = this.#window(key, w.perMs)
      // Forget what left the window: it can never count again.
      calls.forgetBefore(now - w.perMs)
      waitMs = Math.max(waitMs, calls.waitMs(w.requests, w.perMs, now))
    }
    if (waitMs > 0) return Promise.resolve({ granted: false, waitMs: Math.ceil(waitMs) })
    const ticket = String(++this.#next)
    for (const w of windows) this.#window(key, w.perMs).add(ticket, now + maxCallMs)
    return Promise.resolve({ granted: true, ticket })
  }

  settle(key: string, windows: readonly RateLimit[], ticket: string): Promise<void> {
    const now = this.#clock.now()
    for (const w of windows) this.#window(key, w.perMs).settle(ticket, now)
    return Promise.resolve()
  }

  pause(key: string, ms: number): Promise<void> {
    const until = this.#clock.now() + Math.max(0, ms)
    this.#pausedUntil.set(key, Math.max(this.#pausedUntil.get(key) ?? 0, until))
    return Promise.resolve()
  }

  usage(key: string, windows: readonly RateLimit[]): Promise<QuotaUsage> {
    const now = this.#clock.now()
    return Promise.resolve({
      windows: windows.map((w) => ({
        requests: w.requests,
        perMs: w.perMs,
        used: Math.min(w.requests, this.#windows.get(`${key}\u0000${w.perMs}`)?.countSince(now - w.perMs) ?? 0),
      })),
      pausedMs: Math.max(0, Math.ceil((this.#pausedUntil.get(key) ?? 0) - now)),
    })
  }

  /** Counts every window as spent until `until` (a replica that lost the shared count assumes the worst). */
  spendUntil(key: string, windows: readonly RateLimit[], until: number): void {
    for (const w of windows) {
      const calls = this.#window(key, w.perMs)
      for (let i = 0; i < w.requests; i++) calls.add(`spent-${++this.#next}`, until)
    }
  }
}
