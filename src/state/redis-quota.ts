/**
 * The vendor quota shared by every replica through Redis: one sorted set per (key, window) holding each call's end
 * time, checked and updated by one Lua script so two replicas can never both take the last call. Redis's own clock
 * (TIME) is the clock, so replicas whose clocks differ still count the same window.
 */
import type { RateLimit } from '../config/rate-limit.js'
import type { Quota, QuotaAnswer, QuotaUsage } from './quota.js'
import type { SharedStore } from './store.js'

// KEYS[1]: the pause key; KEYS[2..]: one sorted set per window. ARGV: ticket, maxCallMs, then (limit, windowMs) per
// window.
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', KEYS[1])
if paused > 0 then return {0, paused, 1} end
local wait = 0
for i = 2, #KEYS do
  local limit = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    local freeing = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local w = tonumber(freeing[2]) + window - now + 1
    if w > wait then wait = w end
  end
end
if wait > 0 then return {0, wait} end
local ends = now + tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ends, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 * i]) + tonumber(ARGV[2]))
end
return {1, now}
`

// KEYS: one sorted set per window. ARGV: ticket, then windowMs per window. Moves the call's end to now.
const SETTLE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  local ends = redis.call('ZSCORE', KEYS[i], ARGV[1])
  if ends and tonumber(ends) > now then redis.call('ZADD', KEYS[i], 'XX', now, ARGV[1]) end
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[i + 1]))
end
return 1
`

// KEYS[1]: the pause key. ARGV[1]: ms. Never shortens a pause already set.
const PAUSE = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
`

// KEYS[1]: the pause key; KEYS[2..]: one sorted set per window. ARGV: windowMs per window. Reads, never writes.
const USAGE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {math.max(0, redis.call('PTTL', KEYS[1]))}
for i = 2, #KEYS do
  out[i] = redis.call('ZCOUNT', KEYS[i], '(' .. (now - tonumber(ARGV[i - 1])), '+inf')
end
return out
`

export class RedisQuota implements Quota {
  readonly #store: SharedStore
  #next = 0

  constructor(store: SharedStore) {
    this.#store = store
  }

  #windowKeys(key: string, windows: readonly RateLimit[]): string[] {
    return windows.map((w) => this.#store.key('quota', key, String(w.perMs)))
  }

  async take(key: string, windows: readonly RateLimit[], maxCallMs: number): Promise<QuotaAnswer> {
    const ticket = `${this.#store.instanceId}:${++this.#next}`
    const keys = [this.#store.key('pause', key), ...this.#windowKeys(key, windows)]
    const args = [
      ticket,
      String(Math.ceil(maxCallMs)),
      ...windows.flatMap((w) => [String(w.requests), String(w.perMs)]),
    ]
    const [granted, value, paused] = (await this.#store.eval(TAKE, keys, args)) as [number, number, number | undefined]
    if (granted === 1) return { granted: true, ticket }
    return paused === 1
      ? { granted: false, waitMs: Math.ceil(value), paused: true }
      : { granted: false, waitMs: Math.ceil(value) }
  }

  async settle(key: string, windows: readonly RateLimit[], ticket: string): Promise<void> {
    await this.#store.eval(SETTLE, this.#windowKeys(key, windows), [ticket, ...windows.map((w) => String(w.perMs))])
  }

  async pause(key: string, ms: number): Promise<void> {
    if (ms <= 0) return
    await this.#store.eval(PAUSE, [this.#store.key('pause', key)], [String(Math.ceil(ms))])
  }

  async usage(key: string, windows: readonly RateLimit[]): Promise<QuotaUsage> {
    const keys = [this.#store.key('pause', key), ...this.#windowKeys(key, windows)]
    const [pausedMs, ...used] = (await this.#store.eval(
      USAGE,
      keys,
      windows.map((w) => String(w.perMs)),
    )) as number[]
    return {
      windows: windows.map((w, i) => ({
        requests: w.requests,
        perMs: w.perMs,
        used: Math.min(w.requests, used[i] ?? 0),
      })),
      pausedMs: pausedMs ?? 0,
    }
  }
}
