/**
 * What the feed job remembers of a feed between runs: per indicator (keyed by type and normalised summary) the hash
 * of what was last sent, when it was sent and when the feed last held it; and per feed its owner, the validators of
 * the last download that landed whole (ETag, Last-Modified), and the removals held back and why. Written as a run
 * goes: an indicator's record only after its batch landed, the validators only once the whole run did, so a run
 * killed at any point leaves a state the next run completes.
 *
 * Two engines behind one interface: SQLite (better-sqlite3, a file in FEED_STATE_DIR: lookups by key, so memory stays
 * flat in the feed's size) and Redis (REDIS_URL: one hash per feed, shared by every replica).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { SharedStore } from '../state/store.js'

const FEED_STATE_VERSION = 2

export interface SentRecord {
  readonly key: string
  readonly type: string
  readonly summary: string
  /** Hash of what was sent, apart from times that only move forward (last seen). */
  readonly hash: string
  /** When it was last sent (ms since epoch): re-sent after FEED_REFRESH_DAYS. */
  readonly sentAt: number
  /** When the feed last held it (ms since epoch, to the day): removed after FEED_EXPIRE_DAYS without it. */
  readonly seenAt: number
}

export interface FeedMeta {
  readonly owner: string
  readonly fetchedAt: number
  /** Of the last download that was read whole and landed: sent back so an unchanged feed is a 304. */
  readonly etag?: string | undefined
  readonly lastModified?: string | undefined
  /** Removals held back by the last run that looked: how many, and why. Reported on every run until they go. */
  readonly held?: { readonly count: number; readonly reason: string } | undefined
}

export interface FeedStateStore {
  /** Where it is kept, for messages. */
  readonly where: string
  /** `records` come in key order (SQLite's, the order of the UTF-8 bytes): gone keys can be found by a merge. */
  readonly ordered: boolean
  /** How many records the feed has. */
  size(feed: string): Promise<number>
  meta(feed: string): Promise<FeedMeta | undefined>
  saveMeta(feed: string, meta: FeedMeta): Promise<void>
  /** The records of these keys that exist. */
  lookup(feed: string, keys: readonly string[]): Promise<Map<string, SentRecord>>
  /** Every record, a page at a time. */
  records(feed: string): AsyncIterable<readonly SentRecord[]>
  /** Upserts (after their batch landed). */
  record(feed: string, records: readonly SentRecord[]): Promise<void>
  /** These are still in the feed as of `seenAt`. */
  touch(feed: string, keys: readonly string[], seenAt: number): Promise<void>
  forget(feed: string, keys: readonly string[]): Promise<void>
  /** Drops the feed's state (it was for another owner). */
  reset(feed: string): Promise<void>
  close(): Promise<void>
}

/** The store with `fence` checked before every write: a run that lost its lease commits nothing more. */
export const fencedStateStore = (state: FeedStateStore, fence: () => Promise<void>): FeedStateStore => {
  const fenced =
    <A extends unknown[]>(write: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      await fence()
      await write(...args)
    }
  return {
    where: state.where,
    ordered: state.ordered,
    size: (feed) => state.size(feed),
    meta: (feed) => state.meta(feed),
    lookup: (feed, keys) => state.lookup(feed, keys),
    records: (feed) => state.records(feed),
    saveMeta: fenced((feed: string, meta: FeedMeta) => state.saveMeta(feed, meta)),
    record: fenced((feed: string, records: readonly SentRecord[]) => state.record(feed, records)),
    touch: fenced((feed: string, keys: readonly string[], seenAt: number) => state.touch(feed, keys, seenAt)),
    forget: fenced((feed: string, keys: readonly string[]) => state.forget(feed, keys)),
    reset: fenced((feed: string) => state.reset(feed)),
    close: () => state.close(),
  }
}

export const indicatorKey = (type: string, summary: string): string => `${type}|${summary.toLowerCase()}`

const PAGE = 1_000

/** The SQLite engine: `<dir>/feeds.sqlite`, WAL, one row per (feed, indicator). */
export const sqliteStateStore = (dir: string): FeedStateStore => {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'feeds.sqlite')
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`
    CREATE TABLE IF NOT EXISTS feed_meta (feed TEXT PRIMARY KEY, version INTEGER NOT NULL, meta TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS feed_state (
      feed TEXT NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL, summary TEXT NOT NULL,
      hash TEXT NOT NULL, sent_at INTEGER NOT NULL, seen_at INTEGER NOT NULL,
      PRIMARY KEY (feed, key)
    ) WITHOUT ROWID;
  `)
  const getMeta = db.prepare<[string], { version: number; meta: string }>(
    'SELECT version, meta FROM feed_meta WHERE feed = ?',
  )
  const putMeta = db.prepare('INSERT OR REPLACE INTO feed_meta (feed, version, meta) VALUES (?, ?, ?)')
  const count = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM feed_state WHERE feed = ?')
  // Keys looked up a page at a time: one statement per page size, not one query per key.
  const byKeys = new Map<number, Database.Statement<string[], Row>>()
  const lookupStatement = (n: number): Database.Statement<string[], Row> => {
    let statement = byKeys.get(n)
    if (statement === undefined) {
      const marks = Array.from({ length: n }, () => '?').join(',')
      statement = db.prepare<string[], Row>(
        `SELECT key, type, summary, hash, sent_at, seen_at FROM feed_state WHERE feed = ? AND key IN (${marks})`,
      )
      if (byKeys.size < 8) byKeys.set(n, statement)
    }
    return statement
  }
  const page = db.prepare<[string, string, number], Row>(
    'SELECT key, type, summary, hash, sent_at, seen_at FROM feed_state WHERE feed = ? AND key > ? ORDER BY key LIMIT ?',
  )
  const upsert = db.prepare(
    'INSERT OR REPLACE INTO feed_state (feed, key, type, summary, hash, sent_at, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  )
  const seen = db.prepare('UPDATE feed_state SET seen_at = ? WHERE feed = ? AND key = ? AND seen_at < ?')
  const drop = db.prepare('DELETE FROM feed_state WHERE feed = ? AND key = ?')
  const dropFeed = db.prepare('DELETE FROM feed_state WHERE feed = ?')
  const dropMeta = db.prepare('DELETE FROM feed_meta WHERE feed = ?')
  const inTransaction = <A extends unknown[]>(fn: (...args: A) => void) => db.transaction(fn)
  const recordAll = inTransaction((feed: string, records: readonly SentRecord[]) => {
    for (const r of records) upsert.run(feed, r.key, r.type, r.summary, r.hash, r.sentAt, r.seenAt)
  })
  const touchAll = inTransaction((feed: string, keys: readonly string[], seenAt: number) => {
    for (const key of keys) seen.run(seenAt, feed, key, seenAt)
  })
  const forgetAll = inTransaction((feed: string, keys: readonly string[]) => {
    for (const key of keys) drop.run(feed, key)
  })
  return {
    where: path,
    ordered: true,
    size: (feed) => Promise.resolve(count.get(feed)?.n ?? 0),
    meta(feed) {
      const row = getMeta.get(feed)
      if (row === undefined) return Promise.resolve(undefined)
      if (row.version !== FEED_STATE_VERSION)
        return Promise.reject(
          new Error(`the state of ${feed} in ${path} is version ${row.version}, not ${FEED_STATE_VERSION}`),
        )
      return Promise.resolve(JSON.parse(row.meta) as FeedMeta)
    },
    saveMeta(feed, meta) {
      putMeta.run(feed, FEED_STATE_VERSION, JSON.stringify(meta))
      return Promise.resolve()
    },
    lookup(feed, keys) {
      const found = new Map<string, SentRecord>()
      for (let i = 0; i < keys.length; i += PAGE) {
        const part = keys.slice(i, i + PAGE)
        for (const row of lookupStatement(part.length).all(feed, ...part)) found.set(row.key, fromRow(row))
      }
      return Promise.resolve(found)
    },
    async *records(feed) {
      let after = ''
      for (;;) {
        const rows = page.all(feed, after, PAGE)
        if (rows.length === 0) return
        yield rows.map(fromRow)
        after = (rows[rows.length - 1] as Row).key
      }
    },
    record(feed, records) {
      recordAll(feed, records)
      return Promise.resolve()
    },
    touch(feed, keys, seenAt) {
      touchAll(feed, keys, seenAt)
      return Promise.resolve()
    },
    forget(feed, keys) {
      forgetAll(feed, keys)
      return Promise.resolve()
    },
    reset(feed) {
      dropFeed.run(feed)
      dropMeta.run(feed)
      return Promise.resolve()
    },
    close() {
      db.close()
      return Promise.resolve()
    },
  }
}

interface Row {
  key: string
  type: string
  summary: string
  hash: string
  sent_at: number
  seen_at: number
}

const fromRow = (r: Row): SentRecord => ({
  key: r.key,
  type: r.type,
  summary: r.summary,
  hash: r.hash,
  sentAt: r.sent_at,
  seenAt: r.seen_at,
})

/** The Redis engine: one hash per feed (field: the indicator's key) and one meta key, shared by every replica. */
export const redisStateStore = (store: SharedStore): FeedStateStore => {
  const hashKey = (feed: string): string => store.key('feed-state', String(FEED_STATE_VERSION), feed)
  const metaKey = (feed: string): string => store.key('feed-meta', String(FEED_STATE_VERSION), feed)
  const encode = (r: SentRecord): string => JSON.stringify([r.type, r.summary, r.hash, r.sentAt, r.seenAt])
  const decode = (key: string, text: string): SentRecord => {
    const [type, summary, hash, sentAt, seenAt] = JSON.parse(text) as [string, string, string, number, number]
    return { key, type, summary, hash, sentAt, seenAt }
  }
  const client = store.client
  return {
    where: 'Redis',
    ordered: false,
    size: (feed) => client.hlen(hashKey(feed)),
    async meta(feed) {
      const text = await store.get(metaKey(feed))
      return text === null ? undefined : (JSON.parse(text) as FeedMeta)
    },
    async saveMeta(feed, meta) {
      // Kept for a year without a run.
      await store.set(metaKey(feed), JSON.stringify(meta), 365 * 86_400_000)
    },
    async lookup(feed, keys) {
      const found = new Map<string, SentRecord>()
      for (let i = 0; i < keys.length; i += PAGE) {
        const part = keys.slice(i, i + PAGE)
        const values = await client.hmget(hashKey(feed), ...part)
        part.forEach((key, j) => {
          const text = values[j]
          if (typeof text === 'string') found.set(key, decode(key, text))
        })
      }
      return found
    },
    async *records(feed) {
      let cursor = '0'
      do {
        const [next, flat] = await client.hscan(hashKey(feed), cursor, 'COUNT', PAGE)
        cursor = next
        const page: SentRecord[] = []
        for (let i = 0; i + 1 < flat.length; i += 2) page.push(decode(flat[i] as string, flat[i + 1] as string))
        if (page.length > 0) yield page
      } while (cursor !== '0')
    },
    async record(feed, records) {
      for (let i = 0; i < records.length; i += PAGE) {
        const part = records.slice(i, i + PAGE)
        await client.hset(hashKey(feed), Object.fromEntries(part.map((r) => [r.key, encode(r)])))
      }
      await client.pexpire(hashKey(feed), 365 * 86_400_000)
    },
    async touch(feed, keys, seenAt) {
      const found = await this.lookup(feed, keys)
      const stale = [...found.values()].filter((r) => r.seenAt < seenAt).map((r) => ({ ...r, seenAt }))
      if (stale.length > 0) await this.record(feed, stale)
    },
    async forget(feed, keys) {
      for (let i = 0; i < keys.length; i += PAGE) await client.hdel(hashKey(feed), ...keys.slice(i, i + PAGE))
    },
    async reset(feed) {
      await client.del(hashKey(feed), metaKey(feed))
    },
    close: () => Promise.resolve(),
  }
}
