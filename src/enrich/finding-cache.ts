/**
 * Findings cached in this process per (source, API key fingerprint, indicator type, canonical value) with the
 * source's TTL. Bounded in entries per source and in bytes overall: the oldest entries go first. The key's
 * fingerprint is part of the entry's key: a finding fetched with one key is never served to a request with another,
 * and a request with another key leaves the first key's findings in place.
 */
import type { Finding } from '../sources/types.js'

interface Entry {
  readonly finding: Finding
  readonly storedAt: number
  /** About how much memory the finding holds (its JSON size). */
  readonly bytes: number
}

/** The byte budget of one app instance's cache, all sources together. */
export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024

export interface CachedFinding {
  readonly finding: Finding
  readonly ageMs: number
}

export class FindingCache {
  private readonly entries = new Map<string, Map<string, Entry>>()
  private totalBytes = 0

  constructor(
    private readonly maxEntriesPerSource: number,
    private readonly now: () => number = Date.now,
    private readonly maxBytes: number = DEFAULT_CACHE_MAX_BYTES,
  ) {}

  /** Bytes held now, all sources together. */
  bytes(): number {
    return this.totalBytes
  }

  private remove(bucket: Map<string, Entry>, key: string): void {
    const entry = bucket.get(key)
    if (entry === undefined) return
    this.totalBytes -= entry.bytes
    bucket.delete(key)
  }

  private static key(type: string, value: string, keyPrint: string): string {
    return `${keyPrint}\u0000${type}\u0000${value}`
  }

  /** `keyPrint`: the fingerprint of the API key the finding was (or would be) fetched with (src/state/key-print.ts). */
  get(source: string, type: string, value: string, ttlMs: number, keyPrint = ''): CachedFinding | undefined {
    const key = FindingCache.key(type, value, keyPrint)
    const bucket = this.entries.get(source)
    const entry = bucket?.get(key)
    if (!bucket || !entry) return undefined
    const ageMs = this.now() - entry.storedAt
    if (ageMs >= ttlMs) {
      this.remove(bucket, key)
      return undefined
    }
    return { finding: entry.finding, ageMs }
  }

  /** `bytes`: what the finding holds (boundFinding says); a finding larger than the whole budget is not kept. */
  set(source: string, type: string, value: string, finding: Finding, bytes = 0, keyPrint = ''): void {
    if (bytes > this.maxBytes) return
    let bucket = this.entries.get(source)
    if (!bucket) this.entries.set(source, (bucket = new Map()))
    const key = FindingCache.key(type, value, keyPrint)
    this.remove(bucket, key)
    bucket.set(key, { finding, storedAt: this.now(), bytes })
    this.totalBytes += bytes
    while (bucket.size > this.maxEntriesPerSource) {
      const oldest = bucket.keys().next().value
      if (oldest === undefined) break
      this.remove(bucket, oldest)
    }
    // Over the byte budget: the oldest entries go, this source's first, then the others'.
    for (const b of [bucket, ...this.entries.values()]) {
      for (const oldest of b.keys()) {
        if (this.totalBytes <= this.maxBytes) return
        if (b === bucket && oldest === key) continue
        this.remove(b, oldest)
      }
    }
  }

  size(source: string): number {
    return this.entries.get(source)?.size ?? 0
  }
}
