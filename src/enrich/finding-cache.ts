/**
 * Findings cached per (source, indicator type, canonical value) with the source's TTL. Bounded in entries per
 * source and in bytes overall: the oldest entries go first. A change of a source's API key empties that source's
 * entries (the answer may differ by key).
 */
import { createHash } from 'node:crypto'
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
  private readonly keyPrints = new Map<string, string>()
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

  private static key(type: string, value: string): string {
    return `${type}\u0000${value}`
  }

  /** Call before each lookup with the API key in use; a different key than last time empties the source. */
  noteApiKey(source: string, apiKey: string | undefined): void {
    const print = apiKey === undefined ? '' : createHash('sha256').update(apiKey).digest('hex')
    const previous = this.keyPrints.get(source)
    if (previous !== undefined && previous !== print) {
      for (const entry of this.entries.get(source)?.values() ?? []) this.totalBytes -= entry.bytes
      this.entries.delete(source)
    }
    this.keyPrints.set(source, print)
  }

  get(source: string, type: string, value: string, ttlMs: number): CachedFinding | undefined {
    const bucket = this.entries.get(source)
    const entry = bucket?.get(FindingCache.key(type, value))
    if (!bucket || !entry) return undefined
    const ageMs = this.now() - entry.storedAt
    if (ageMs >= ttlMs) {
      this.remove(bucket, FindingCache.key(type, value))
      return undefined
    }
    return { finding: entry.finding, ageMs }
  }

  /** `bytes`: what the finding holds (boundFinding says); a finding larger than the whole budget is not kept. */
  set(source: string, type: string, value: string, finding: Finding, bytes = 0): void {
    if (bytes > this.maxBytes) return
    let bucket = this.entries.get(source)
    if (!bucket) this.entries.set(source, (bucket = new Map()))
    const key = FindingCache.key(type, value)
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
