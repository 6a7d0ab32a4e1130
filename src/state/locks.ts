/**
 * Mutual exclusion by name, for work that must happen once even when runs race (one note per indicator and digest).
 * In process it is a queue per name; with Redis, a replica also holds the name in Redis (SET NX with a time to
 * live, released only by its holder), so runs on different replicas take turns too. Redis not answering falls back
 * to the in-process lock: the work goes on, at worst racing a run on another replica.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SharedStore } from './store.js'

export interface Locks {
  /** Runs `work` while holding `name`; waits (until `signal` aborts) while another run holds it. */
  withLock<T>(name: string, signal: AbortSignal, work: () => Promise<T>): Promise<T>
}

export class MemoryLocks implements Locks {
  readonly #tails = new Map<string, Promise<unknown>>()

  async withLock<T>(name: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(name) ?? Promise.resolve()
    let release = (): void => undefined
    const mine = new Promise<void>((resolve) => (release = resolve))
    const tail = before.then(() => mine)
    this.#tails.set(name, tail)
    try {
      await Promise.race([before, abortion(signal)])
      return await work()
    } finally {
      release()
      if (this.#tails.get(name) === tail) this.#tails.delete(name)
    }
  }
}

const abortion = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => {
    const fail = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
    if (signal.aborted) fail()
    else signal.addEventListener('abort', fail, { once: true })
  })

/** How long a holder may keep a name before Redis forgets it (a replica that died mid-work). */
const LOCK_TTL_MS = 30_000
const POLL_MS = 25

// Deletes the name only when this holder still holds it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

export class SharedLocks implements Locks {
  readonly #store: SharedStore
  readonly #local = new MemoryLocks()

  constructor(store: SharedStore) {
    this.#store = store
  }

  withLock<T>(name: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    // Runs on this replica queue in process first, so only one of them at a time polls Redis.
    return this.#local.withLock(name, signal, async () => {
      const key = this.#store.key('lock', name)
      const token = randomUUID()
      const held = await this.#acquire(key, token, signal)
      try {
        return await work()
      } finally {
        if (held) await this.#store.eval(RELEASE, [key], [token]).catch(() => undefined)
      }
    })
  }

  /** True once held in Redis; false when Redis does not answer (the in-process lock is all there is). */
  async #acquire(key: string, token: string, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      let taken: boolean
      try {
        taken = await this.#store.set(key, token, LOCK_TTL_MS, true)
      } catch {
        return false
      }
      if (taken) return true
      await sleep(POLL_MS, undefined, { signal })
    }
  }
}
