/**
 * The outbox in one JSON file (the default without Redis). Every change is made under a lock file (so the service,
 * `npm run alerts` and `npm run feed` can share it), against the file as it is on disk, and written before it is
 * acknowledged: to a temporary file, synced, then renamed over the old one, so a crash leaves the old or the new
 * file, never half of one. Reads take the file as it is (a rename is atomic) and reuse the parse while it is unchanged.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { emptyCounts, dueAt, type EntryStore } from './outbox.js'
import type { OutboxEntry, OutboxState } from './types.js'

interface FileShape {
  readonly version: 1
  readonly entries: Record<string, OutboxEntry>
  readonly meta: Record<string, string>
}

const EMPTY: FileShape = { version: 1, entries: {}, meta: {} }
/** A lock older than this was left by a crash (a change takes milliseconds). */
const STALE_LOCK_MS = 30_000
const LOCK_WAIT_MS = 10_000

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export const openFileEntryStore = (path: string): EntryStore => {
  mkdirSync(dirname(path), { recursive: true })
  const lockPath = `${path}.lock`
  let cache: { stamp: string; shape: FileShape } | undefined

  const read = (): FileShape => {
    let stamp: string
    try {
      const st = statSync(path)
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY
      throw err
    }
    if (cache?.stamp === stamp) return cache.shape
    let shape: FileShape
    try {
      shape = JSON.parse(readFileSync(path, 'utf8')) as FileShape
    } catch (err) {
      throw new Error(`the alert outbox ${path} cannot be read (${(err as Error).message}); move it aside to start a new one`)
    }
    cache = { stamp, shape }
    return shape
  }

  const write = (shape: FileShape): void => {
    const tmp = `${path}.${process.pid}.tmp`
    const fd = openSync(tmp, 'w')
    try {
      writeSync(fd, JSON.stringify(shape))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
    cache = undefined
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
        if ((Number.isInteger(holder) && holder > 0 && !pidAlive(holder)) || age > STALE_LOCK_MS) unlinkSync(lockPath)
      } catch {
        // it went away meanwhile: try again
      }
      if (Date.now() > deadline) throw new Error(`the alert outbox ${path} stayed locked for ${LOCK_WAIT_MS / 1000} s (${lockPath})`)
      await sleep(5)
    }
  }

  // Changes in this process queue behind one another; the lock file orders them with other processes.
  let chain: Promise<unknown> = Promise.resolve()
  const change = <T>(fn: (shape: { entries: Record<string, OutboxEntry>; meta: Record<string, string> }) => { result: T; changed: boolean }): Promise<T> => {
    const run = chain.then(async () => {
      await lock()
      try {
        const current = read()
        const draft = { entries: { ...current.entries }, meta: { ...current.meta } }
        const { result, changed } = fn(draft)
        if (changed) write({ version: 1, ...draft })
        return result
      } finally {
        unlinkSync(lockPath)
      }
    })
    chain = run.catch(() => undefined)
    return run
  }

  const newestFirst = (a: OutboxEntry, b: OutboxEntry): number => (b.sentAt ?? b.createdAt) - (a.sentAt ?? a.createdAt)
  const same = (a: OutboxEntry | undefined, b: OutboxEntry): boolean => a !== undefined && JSON.stringify(a) === JSON.stringify(b)

  return {
    where: path,
    insert: (list) =>
      change((s) => {
        const added = list.filter((e) => s.entries[e.key] === undefined)
        for (const e of added) s.entries[e.key] = e
        return { result: added.map((e) => e.key), changed: added.length > 0 }
      }),
    getMany: async (keys) => {
      const { entries } = read()
      return keys.map((k) => entries[k])
    },
    swap: (changes) =>
      change((s) => {
        const done = changes.filter((c) => same(s.entries[c.expected.key], c.expected))
        for (const c of done) s.entries[c.next.key] = c.next
        return { result: done.map((c) => c.next.key), changed: done.length > 0 }
      }),
    dueKeys: async (now, limit) =>
      Object.values(read().entries)
        .filter((e) => (dueAt(e) ?? Infinity) <= now)
        .sort((a, b) => a.createdAt - b.createdAt)
        .slice(0, limit)
        .map((e) => e.key),
    keysIn: async (state: OutboxState | undefined, limit) =>
      Object.values(read().entries)
        .filter((e) => state === undefined || e.state === state)
        .sort(newestFirst)
        .slice(0, limit)
        .map((e) => e.key),
    async counts() {
      const counts = emptyCounts()
      for (const e of Object.values(read().entries)) counts[e.state]++
      return counts
    },
    getMeta: async (name) => read().meta[name],
    setMeta: (name, value) =>
      change((s) => {
        s.meta[name] = value
        return { result: undefined, changed: true }
      }),
    close: async () => {
      await chain
    },
  }
}

/** For tests and tools: the file as it is on disk. */
export const readOutboxFile = (path: string): FileShape => JSON.parse(readFileSync(path, 'utf8')) as FileShape
