/**
 * Findings cached per (source, indicator type, canonical value) with the source's TTL. Bounded: the oldest
 * entries go first. A change of a source's API key empties that source's entries (the answer may differ by key).
 */
import { createHash } from 'node:crypto'
import type { Finding } from '../sources/types.js'

interface Entry {
  readonly finding: Finding
  readonly storedAt: number
}

export interface CachedFinding {
  readonly finding: Finding
  readonly ageMs: number
}

export class FindingCache {
  private readonly entries = new Map<string, Map<string, Entry>>()
  private readonly keyPrints = new Map<string, string>()

  constructor(
    private readonly maxEntriesPerSource: number,
    private readonly now: () => number = Date.now,
  ) {}

  private static key(type: string, value: string): string {
    return `${type}\u0000${value}`
  }

  /** Call before each lookup with the API key in use; a different key than last time empties the source. */
  noteApiKey(source: string, apiKey: string | undefined): void {
    const print = apiKey === undefined ? '' : createHash('sha256').update(apiKey).digest('hex')
    const previous = this.keyPrints.get(source)
    if (previous !== undefined && previous !== print) this.entries.delete(source)
    this.keyPrints.set(source, print)
  }

  get(source: string, type: string, value: string, ttlMs: number): CachedFinding | undefined {
    const bucket = this.entries.get(source)
    const entry = bucket?.get(FindingCache.key(type, value))
    if (!bucket || !entry) return undefined
    const ageMs = this.now() - entry.storedAt
    if (ageMs >= ttlMs) {
      bucket.delete(FindingCache.key(type, value))
      return undefined
    }
    return { finding: entry.finding, ageMs }
  }

  set(source: string, type: string, value: string, finding: Finding): void {
    let bucket = this.entries.get(source)
    if (!bucket) this.entries.set(source, (bucket = new Map()))
    const key = FindingCache.key(type, value)
    bucket.delete(key)
    bucket.set(key, { finding, storedAt: this.now() })
    while (bucket.size > this.maxEntriesPerSource) {
      const oldest = bucket.keys().next().value
      if (oldest === undefined) break
      bucket.delete(oldest)
    }
  }

  size(source: string): number {
    return this.entries.get(source)?.size ?? 0
  }
}
