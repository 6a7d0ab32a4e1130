/**
 * One run's items, staged as the download is read: a temporary SQLite file, so a feed of any size is held on disk,
 * not in memory. An indicator the feed holds more than once (an IP under several ThreatFox IOCs, one netblock under
 * two SBL ids) is merged as it arrives (mergeItems), in a deterministic order, so a feed that only reorders its rows
 * is no change. Read back in key order, a page at a time.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { FeedItem } from '../feeds/types.js'
import { mergeItems } from './diff.js'
import { indicatorKey } from './state.js'

/** Rows written per transaction: one transaction per item made a 100,000-row feed take seconds. */
const FLUSH_EVERY = 2_000

export interface Staging {
  put(item: FeedItem): void
  /** Writes what is still buffered; call once the feed has been read. */
  flush(): void
  has(key: string): boolean
  /** Items in key order after `after` (exclusive), at most `limit`. */
  page(after: string, limit: number): { key: string; item: FeedItem }[]
  /** The keys alone, in the same order. */
  keys(after: string, limit: number): string[]
  readonly count: number
  /** Rows that repeated an indicator already staged (merged into it). */
  readonly merged: number
  close(): void
}

export const openStaging = (): Staging => {
  const dir = mkdtempSync(join(tmpdir(), 'tc-feed-staging-'))
  const db = new Database(join(dir, 'staging.sqlite'))
  db.pragma('journal_mode = OFF')
  db.pragma('synchronous = OFF')
  db.pragma('cache_size = -8000')
  db.exec('CREATE TABLE staged (key TEXT PRIMARY KEY, item TEXT NOT NULL) WITHOUT ROWID')
  const get = db.prepare<[string], { item: string }>('SELECT item FROM staged WHERE key = ?')
  const insert = db.prepare('INSERT INTO staged (key, item) VALUES (?, ?) ON CONFLICT (key) DO NOTHING')
  const replace = db.prepare('UPDATE staged SET item = ? WHERE key = ?')
  const has = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM staged WHERE key = ?')
  const page = db.prepare<[string, number], { key: string; item: string }>(
    'SELECT key, item FROM staged WHERE key > ? ORDER BY key LIMIT ?',
  )
  const keys = db.prepare<[string, number], { key: string }>(
    'SELECT key FROM staged WHERE key > ? ORDER BY key LIMIT ?',
  )
  let buffer = new Map<string, FeedItem>()
  let count = 0
  let merged = 0
  const write = db.transaction((items: Map<string, FeedItem>) => {
    for (const [key, item] of items) {
      // Most keys are new: one statement; a repeat of an earlier flush's key is read, merged and written back.
      if (insert.run(key, JSON.stringify(item)).changes === 1) {
        count += 1
        continue
      }
      merged += 1
      const earlier = get.get(key) as { item: string }
      replace.run(JSON.stringify(mergeItems(JSON.parse(earlier.item) as FeedItem, item)), key)
    }
  })
  const flush = (): void => {
    if (buffer.size === 0) return
    write(buffer)
    buffer = new Map()
  }
  return {
    put(item) {
      const key = indicatorKey(item.type, item.summary)
      const buffered = buffer.get(key)
      if (buffered !== undefined) merged += 1
      buffer.set(key, buffered === undefined ? item : mergeItems(buffered, item))
      if (buffer.size >= FLUSH_EVERY) flush()
    },
    flush,
    has: (key) => buffer.has(key) || has.get(key) !== undefined,
    page: (after, limit) => page.all(after, limit).map((r) => ({ key: r.key, item: JSON.parse(r.item) as FeedItem })),
    keys: (after, limit) => keys.all(after, limit).map((r) => r.key),
    get count() {
      return count + buffer.size
    },
    get merged() {
      return merged
    },
    close() {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
