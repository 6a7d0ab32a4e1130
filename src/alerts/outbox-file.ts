/**
 * The outbox in a file (the default without Redis): a journal of JSON lines, one per change (an entry as it now is, or
 * a checkpoint), appended and synced before the change is acknowledged, so a change costs what it writes, not the
 * whole outbox. Every process that opens it (the service, `npm run alerts`, `npm run feed`) keeps the entries in
 * memory and reads what the others appended since; changes are made under a lock file, against the entries as they
 * are on disk. When the journal holds many more lines than entries it is compacted: the live entries are written to
 * a temporary file, synced, and renamed over it (readers see the new file and read it whole). A line cut short by a
 * crash is cut off before the next append.
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { processAlive } from '../util/process-alive.js'
import { emptyCounts, dueAt, type EntryStore } from './outbox.js'
import type { OutboxEntry, OutboxState } from './types.js'

/** One journal line: an entry as it now is, or a named value (a watchlist checkpoint). */
type JournalLine = { readonly e: OutboxEntry } | { readonly m: readonly [string, string] }

/** A lock older than this was left by a crash (a change takes milliseconds). */
const STALE_LOCK_MS = 30_000
const LOCK_WAIT_MS = 10_000
/** Compact when the journal has this many lines more than twice the entries. */
const COMPACT_SLACK = 1_000

export const openFileEntryStore = (path: string): EntryStore => {
  mkdirSync(dirname(path), { recursive: true })
  const lockPath = `${path}.lock`
  const entries = new Map<string, OutboxEntry>()
  /** Keys not yet final (pending, sending, failed): what a delivery round looks at, most entries being sent. */
  const open = new Set<string>()
  const meta = new Map<string, string>()
  const put = (e: OutboxEntry): void => {
    entries.set(e.key, e)
    if (dueAt(e) === undefined) open.delete(e.key)
    else open.add(e.key)
  }
  /** The journal as last read: its inode, the bytes read (whole lines only), and its line count. */
  let seen = { ino: -1, offset: 0, lines: 0 }

  const apply = (text: string): number => {
    let lines = 0
    for (const line of text.split('\n')) {
      if (line === '') continue
      let record: JournalLine
      try {
        record = JSON.parse(line) as JournalLine
      } catch {
        continue // a line cut short by a crash (only ever the last one): it never acknowledged a change
      }
      if ('e' in record) put(record.e)
      else meta.set(record.m[0], record.m[1])
      lines++
    }
    return lines
  }

  /** Reads what was appended since the last read, or the whole file when it was replaced (compacted). */
  const sync = (): void => {
    let fd: number
    try {
      fd = openSync(path, 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      entries.clear()
      open.clear()
      meta.clear()
      seen = { ino: -1, offset: 0, lines: 0 }
      return
    }
    try {
      const st = fstatSync(fd)
      if (st.ino !== seen.ino || st.size < seen.offset) {
        entries.clear()
        open.clear()
        meta.clear()
        seen = { ino: st.ino, offset: 0, lines: 0 }
      }
      if (st.size === seen.offset) return
      const buffer = Buffer.alloc(st.size - seen.offset)
      readSync(fd, buffer, 0, buffer.length, seen.offset)
      const whole = buffer.lastIndexOf(0x0a) + 1
      seen = {
        ...seen,
        offset: seen.offset + whole,
        lines: seen.lines + apply(buffer.subarray(0, whole).toString('utf8')),
      }
    } finally {
      closeSync(fd)
    }
  }

  const lock = async (): Promise<void> => {
    const deadline = Date.now() + LOCK_WAIT_MS
    for (;;) {
      try {
        const fd = openSync(lockPath, 'wx')
        writeSync(fd, String(process.pid))
        closeSync(fd)
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      try {
        const holder = Number(readFileSync(lockPath, 'utf8').trim())
        const age = Date.now() - statSync(lockPath).mtimeMs
        if ((Number.isInteger(holder) && holder > 0 && !processAlive(holder)) || age > STALE_LOCK_MS)
          unlinkSync(lockPath)
      } catch {
        // it went away meanwhile: try again
      }
      if (Date.now() > deadline)
        throw new Error(`the alert outbox ${path} stayed locked for ${LOCK_WAIT_MS / 1000} s (${lockPath})`)
      await sleep(5)
    }
  }

  const append = (records: readonly JournalLine[]): void => {
    const fd = openSync(path, 'a+')
    try {
      // A crash mid-append leaves a line without its newline: cut it off so the next line starts clean.
      const size = fstatSync(fd).size
      if (size > seen.offset) ftruncateSync(fd, seen.offset)
      const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n'
      writeSync(fd, text)
      fsyncSync(fd)
      const st = fstatSync(fd)
      seen = { ino: st.ino, offset: st.size, lines: seen.lines + records.length }
    } finally {
      closeSync(fd)
    }
  }

  const compact = (): void => {
    const tmp = `${path}.${process.pid}.tmp`
    const records: JournalLine[] = [
      ...[...meta].map(([k, v]) => ({ m: [k, v] as const })),
      ...[...entries.values()].map((e) => ({ e })),
    ]
    const fd = openSync(tmp, 'w')
    try {
      writeSync(fd, records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : ''))
      fsyncSync(fd)
      const st = fstatSync(fd)
      seen = { ino: st.ino, offset: st.size, lines: records.length }
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  }

  // Changes in this process queue behind one another; the lock file orders them with other processes.
  let chain: Promise<unknown> = Promise.resolve()
  const change = <T>(fn: () => { result: T; records: JournalLine[] }): Promise<T> => {
    const run = chain.then(async () => {
      await lock()
      try {
        sync()
        const { result, records } = fn()
        if (records.length > 0) {
          append(records)
          for (const r of records)
            if ('e' in r) put(r.e)
            else meta.set(r.m[0], r.m[1])
          if (seen.lines > 2 * (entries.size + meta.size) + COMPACT_SLACK) compact()
        }
        return result
      } finally {
        unlinkSync(lockPath)
      }
    })
    chain = run.catch(() => undefined)
    return run
  }

  const newestFirst = (a: OutboxEntry, b: OutboxEntry): number => (b.sentAt ?? b.createdAt) - (a.sentAt ?? a.createdAt)
  const same = (a: OutboxEntry | undefined, b: OutboxEntry): boolean =>
    a !== undefined && JSON.stringify(a) === JSON.stringify(b)
  const current = (): IterableIterator<OutboxEntry> => {
    sync()
    return entries.values()
  }
  const openEntries = (): OutboxEntry[] => {
    sync()
    return [...open].map((k) => entries.get(k) as OutboxEntry)
  }

  return {
    where: path,
    insert: (list) =>
      change(() => {
        const keys = new Set<string>()
        const added = list.filter((e) => !entries.has(e.key) && !keys.has(e.key) && keys.add(e.key) !== undefined)
        return { result: added.map((e) => e.key), records: added.map((e) => ({ e })) }
      }),
    getMany: async (keys) => {
      sync()
      return keys.map((k) => entries.get(k))
    },
    swap: (changes) =>
      change(() => {
        const done = changes.filter((c) => same(entries.get(c.expected.key), c.expected))
        return { result: done.map((c) => c.next.key), records: done.map((c) => ({ e: c.next })) }
      }),
    dueKeys: async (now, limit) =>
      openEntries()
        .filter((e) => (dueAt(e) ?? Infinity) <= now)
        .sort((a, b) => a.createdAt - b.createdAt)
        .slice(0, limit)
        .map((e) => e.key),
    keysIn: async (state: OutboxState | undefined, limit) =>
      (state === 'pending' || state === 'sending' || state === 'failed' ? [...openEntries()] : [...current()])
        .filter((e) => state === undefined || e.state === state)
        .sort(newestFirst)
        .slice(0, limit)
        .map((e) => e.key),
    async counts() {
      const counts = emptyCounts()
      for (const e of current()) counts[e.state]++
      return counts
    },
    getMeta: async (name) => {
      sync()
      return meta.get(name)
    },
    setMeta: (name, value) => change(() => ({ result: undefined, records: [{ m: [name, value] }] })),
    close: async () => {
      await chain
    },
  }
}

/** For tests and tools: the outbox as it is on disk (the journal replayed). */
export const readOutboxFile = (
  path: string,
): { entries: Record<string, OutboxEntry>; meta: Record<string, string> } => {
  const entries: Record<string, OutboxEntry> = {}
  const meta: Record<string, string> = {}
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue
    const record = JSON.parse(line) as JournalLine
    if ('e' in record) entries[record.e.key] = record.e
    else meta[record.m[0]] = record.m[1]
  }
  return { entries, meta }
}
