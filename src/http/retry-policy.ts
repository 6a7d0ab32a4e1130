/**
 * When to retry and how long to wait: pure functions over statuses, error codes and response headers.
 */

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly limit: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { limit: 2, baseDelayMs: 200, maxDelayMs: 5000 }

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504])

/** Transient connection failures. TLS/certificate errors are absent on purpose: a retry cannot fix them. */
export const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
])

/**
 * Delay before retry number `retry` (1 = first retry): exponential from baseDelayMs, capped at maxDelayMs, with
 * "equal jitter" (a random point in the upper half) so concurrent callers do not retry in lock-step.
 */
export const backoffDelayMs = (retry: number, policy: RetryPolicy, random: () => number = Math.random): number => {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

export type HeaderValue = string | string[] | undefined
export type ResponseHeaders = Readonly<Record<string, HeaderValue>>

const first = (value: HeaderValue): string | undefined => {
  const v = Array.isArray(value) ? value[0] : value
  const trimmed = v?.trim()
  return trimmed === undefined || trimmed === '' ? undefined : trimmed
}

/** Retry-After as a wait in ms: delta-seconds or an HTTP date (a date in the past means 0). */
export const parseRetryAfterMs = (value: HeaderValue, nowMs: number): number | undefined => {
  const v = first(value)
  if (v === undefined) return undefined
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000)
  // Only HTTP-date shapes ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse alone accepts too much.
  if (!/^[A-Za-z]{3},? /.test(v)) return undefined
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

/** Below this a reset value is "seconds from now"; above it, epoch seconds (1e9 s is September 2001). */
const EPOCH_SECONDS_FLOOR = 1_000_000_000
/** Above this, the reset value is taken as epoch milliseconds. */
const EPOCH_MILLIS_FLOOR = 100_000_000_000

/**
 * How long to hold off when the vendor says the quota is spent: X-RateLimit-Remaining: 0 (or the IETF draft's
 * RateLimit-Remaining) together with a reset time. undefined when the headers do not say so.
 */
export const quotaResetWaitMs = (headers: ResponseHeaders, nowMs: number): number | undefined => {
  const remaining = first(headers['x-ratelimit-remaining']) ?? first(headers['ratelimit-remaining'])
  const reset = first(headers['x-ratelimit-reset']) ?? first(headers['ratelimit-reset'])
  if (remaining === undefined || reset === undefined || Number(remaining) !== 0) return undefined
  if (!/^\d+(\.\d+)?$/.test(reset)) return undefined
  const n = Number(reset)
  if (n >= EPOCH_MILLIS_FLOOR) return Math.max(0, Math.round(n - nowMs))
  if (n >= EPOCH_SECONDS_FLOOR) return Math.max(0, Math.round(n * 1000 - nowMs))
  return Math.round(n * 1000)
}
