/** Rate limits as settings write them ("4/60s", "1000/1d"): parsed, checked and printed in one place. */

export interface RateLimit {
  /** Calls allowed per `perMs` window (token bucket size and refill). */
  readonly requests: number
  readonly perMs: number
}

/** The units a setting's time may be written in (`30s`, `1m`, `1d`): rate-limit windows and durations alike. */
export const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

export const formatRateLimit = (limit: RateLimit): string => {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (limit.perMs % UNIT_MS[unit] === 0) return `${limit.requests}/${limit.perMs / UNIT_MS[unit]}${unit}`
  }
  return `${limit.requests}/${limit.perMs}ms`
}

/** "4/60s" -> { requests: 4, perMs: 60000 }; throws an Error naming the problem. */
export const parseRateLimit = (text: string): RateLimit => {
  const m = /^\s*(\d+)\s*\/\s*(\d*)\s*(ms|s|m|h|d)\s*$/.exec(text)
  if (!m) throw new Error(`'${text}' is not a rate limit like 4/60s, 1000/1d or 20/1s`)
  const requests = Number(m[1])
  const perMs = Number(m[2] === '' ? 1 : m[2]) * UNIT_MS[m[3] as keyof typeof UNIT_MS]
  if (requests < 1 || perMs < 1) throw new Error(`'${text}' must allow at least 1 call per window`)
  return { requests, perMs }
}

/** Every window a vendor counts, comma-separated: "4/1m, 500/1d". */
export const formatRateLimits = (limits: readonly RateLimit[]): string => limits.map(formatRateLimit).join(', ')

/** "4/1m, 500/1d" -> one RateLimit per window; throws an Error naming the window that is wrong. */
export const parseRateLimits = (text: string): RateLimit[] => {
  const parts = text.split(',').map((p) => p.trim())
  if (parts.length === 0 || parts.some((p) => p === ''))
    throw new Error(`'${text}' is not a list of rate limits like 4/1m, 500/1d`)
  return parts.map(parseRateLimit)
}

/** The window with the shortest span: the one the in-process limiter queues callers by. */
export const shortestWindow = (limits: readonly RateLimit[]): RateLimit | undefined =>
  [...limits].sort((a, b) => a.perMs - b.perMs)[0]
