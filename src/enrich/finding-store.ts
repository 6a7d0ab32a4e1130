/**
 * Where findings are cached: in this process (FindingCache), or in the shared store when REDIS_URL is set, so one
 * replica's answer serves every replica. A shared store that does not answer is a miss (and a write that does not
 * land is dropped): the lookup goes to the source, never fails because of the cache.
 */
import { hash } from 'node:crypto'
import type { Finding } from '../sources/types.js'
import type { SharedStore } from '../state/store.js'
import { DEFAULT_CACHE_MAX_BYTES, FindingCache, type CachedFinding } from './finding-cache.js'

/** What a finding is cached under: its source, the fingerprint of the API key used, the indicator's type and value. */
export interface FindingRef {
  readonly source: string
  readonly keyPrint: string
  readonly type: string
  readonly value: string
}

export interface FindingStore {
  get(ref: FindingRef, ttlMs: number): Promise<CachedFinding | undefined>
  /** `bytes`: what the finding holds (boundFinding says). */
  set(ref: FindingRef, finding: Finding, bytes: number, ttlMs: number): Promise<void>
}

const DEFAULT_CACHE_ENTRIES = 10_000

export const memoryFindingStore = (cache = new FindingCache(DEFAULT_CACHE_ENTRIES)): FindingStore => ({
  get: (ref, ttlMs) => Promise.resolve(cache.get(ref.source, ref.type, ref.value, ttlMs, ref.keyPrint)),
  set: (ref, finding, bytes) =>
    Promise.resolve(cache.set(ref.source, ref.type, ref.value, finding, bytes, ref.keyPrint)),
})

interface StoredFinding {
  readonly finding: Finding
  readonly storedAt: number
}

/** The shared cache: one Redis key per finding, expiring at the source's TTL; `now` is this replica's clock. */
export const sharedFindingStore = (store: SharedStore, now: () => number = Date.now): FindingStore => {
  // The value is hashed: a URL may be long and hold anything; the key stays short and safe.
  const keyOf = (ref: FindingRef): string =>
    store.key('finding', ref.source, ref.keyPrint, ref.type, hash('sha256', ref.value, 'hex').slice(0, 32))
  return {
    async get(ref, ttlMs) {
      const text = await store.get(keyOf(ref)).catch(() => null)
      if (text === null) return undefined
      try {
        const stored = JSON.parse(text) as StoredFinding
        const ageMs = Math.max(0, now() - stored.storedAt)
        return ageMs < ttlMs ? { finding: stored.finding, ageMs } : undefined
      } catch {
        return undefined
      }
    },
    async set(ref, finding, bytes, ttlMs) {
      if (bytes > DEFAULT_CACHE_MAX_BYTES) return
      const stored: StoredFinding = { finding, storedAt: now() }
      await store.set(keyOf(ref), JSON.stringify(stored), ttlMs).catch(() => undefined)
    },
  }
}
