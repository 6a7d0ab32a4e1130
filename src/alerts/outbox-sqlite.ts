/**
 * The outbox in an SQLite file (the default without Redis), through better-sqlite3: indexed by key, by due time and by
 * state, so a change costs one row and a delivery round reads only what is due; nothing is held in memory, however
 * long the history (and ALERTS_RETENTION bounds that). Several processes on one host (the service, `npm run alerts`,
 * `npm run feed`) share the file: WAL lets readers go on while one writes, and every change is a compare-and-set
 * against the row as it was read.
 *
 * SQLite rather than the hand-written journal of earlier versions: transactions instead of a lock file, no rewrite of
 * the whole file to compact it, and no fsync per change on the event loop. In WAL with synchronous=NORMAL a commit
 * survives the process being killed; a checkpoint (which syncs) runs within a second of a change, so a power cut loses
 * at most about that second, as Redis with `appendfsync everysec` does.
 *
 * The file holds webhook URLs (which may be credentials): it, its -wal and its -shm are mode 0600 (SQLite gives the
 * side files the database's mode), in a directory created 0700.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { dueAt, emptyCounts, FINAL_STATES, orderAt, type EntryStore } from './outbox.js'
import type { OutboxEntry, OutboxState } from './types.js'

const CHECKPOINT_EVERY_MS = 1_000

/** The file, created 0600 before SQLite opens it; an existing one is made 0600 too. */
const privateFile = (path: string): void => {
  const dir = dirname(path)
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 })
  closeSync(openSync(path, 'a', 0o600))
  chmodSync(path, 0o600)
}

export const openSqliteEntryStore = (path: string): EntryStore => {
  privateFile(path)
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  // Another process mid-write: wait for it (briefly) rather than fail.
  db.pragma('busy_timeout = 5000')
  db.exec(`
    CREATE TABLE IF NOT EXISTS entries (
      key TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      due_at INTEGER,
      order_at INTEGER NOT NULL,
      body TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS entries_due ON entries(due_at) WHERE due_at IS NOT NULL;
    CREATE INDEX IF NOT EXISTS entries_state ON entries(state, order_at);
    CREATE INDEX IF NOT EXISTS entries_order ON entries(order_at);
    CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  `)
  const q = {
    insert: db.prepare(
      'INSERT INTO entries (key, state, due_at, order_at, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING',
    ),
    get: db.prepare<[string], { body: string }>('SELECT body FROM entries WHERE key = ?'),
    swap: db.prepare('UPDATE entries SET state = ?, due_at = ?, order_at = ?, body = ? WHERE key = ? AND body = ?'),
    due: db.prepare<[number, number], { key: string }>(
      // rowid: the order entries came in, so a message lists its alerts as they were raised.
      'SELECT key FROM entries WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, rowid LIMIT ?',
    ),
    inState: db.prepare<[string, number], { key: string }>(
      'SELECT key FROM entries WHERE state = ? ORDER BY order_at DESC LIMIT ?',
    ),
    newest: db.prepare<[number], { key: string }>('SELECT key FROM entries ORDER BY order_at DESC LIMIT ?'),
    counts: db.prepare<[], { state: OutboxState; n: number }>(
      'SELECT state, count(*) AS n FROM entries GROUP BY state',
    ),
    prune: db.prepare(
      `DELETE FROM entries WHERE state IN (${FINAL_STATES.map(() => '?').join(', ')}) AND order_at < ?`,
    ),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE name = ?'),
    setMeta: db.prepare(
      'INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
    ),
    deleteMeta: db.prepare('DELETE FROM meta WHERE name = ?'),
    listMeta: db.prepare<[string, string], { name: string; value: string }>(
      'SELECT name, value FROM meta WHERE name >= ? AND name < ? ORDER BY name',
    ),
  }
  // What was read, byte for byte: the compare-and-set compares against it.
  const readAs = new WeakMap<OutboxEntry, string>()
  const row = (e: OutboxEntry) => [e.state, dueAt(e) ?? null, orderAt(e), JSON.stringify(e)] as const

  let dirty = false
  const wrote = <T>(value: T): T => {
    dirty = true
    return value
  }
  const checkpoints = setInterval(() => {
    if (!dirty) return
    dirty = false
    db.pragma('wal_checkpoint(PASSIVE)')
  }, CHECKPOINT_EVERY_MS)
  checkpoints.unref()

  const insertMany = db.transaction((entries: readonly OutboxEntry[]) =>
    entries.filter((e) => q.insert.run(e.key, ...row(e)).changes > 0).map((e) => e.key),
  )
  const swapMany = db.transaction((changes: ReadonlyArray<{ expected: string; next: OutboxEntry }>) =>
    changes
      .filter(({ expected, next }) => q.swap.run(...row(next), next.key, expected).changes > 0)
      .map((c) => c.next.key),
  )

  return {
    where: path,
    insert: async (entries) => wrote(insertMany(entries)),
    async getMany(keys) {
      return keys.map((key) => {
        const found = q.get.get(key)
        if (found === undefined) return undefined
        const entry = JSON.parse(found.body) as OutboxEntry
        readAs.set(entry, found.body)
        return entry
      })
    },
    async swap(changes) {
      const rows = changes.map(({ expected, next }) => {
        const raw = readAs.get(expected)
        if (raw === undefined) throw new Error('outbox: an entry changed that was not read from the store')
        return { expected: raw, next }
      })
      return wrote(swapMany(rows))
    },
    dueKeys: async (now, limit) => q.due.all(now, limit).map((r) => r.key),
    keysIn: async (state, limit) =>
      (state === undefined ? q.newest.all(limit) : q.inState.all(state, limit)).map((r) => r.key),
    async counts() {
      const counts = emptyCounts()
      for (const { state, n } of q.counts.all()) counts[state] = n
      return counts
    },
    prune: async (before) => wrote(q.prune.run(...FINAL_STATES, before).changes),
    getMeta: async (name) => q.getMeta.get(name)?.value,
    async setMeta(name, value) {
      wrote(q.setMeta.run(name, value))
    },
    async deleteMeta(name) {
      wrote(q.deleteMeta.run(name))
    },
    // Names from `prefix` up to the prefix with its last character's successor: every name starting with it.
    listMeta: async (prefix) => q.listMeta.all(prefix, `${prefix}\uffff`).map((r) => [r.name, r.value] as const),
    async close() {
      clearInterval(checkpoints)
      if (db.open) {
        if (dirty) db.pragma('wal_checkpoint(PASSIVE)')
        db.close()
      }
    },
  }
}
