/**
 * The shared store: one Redis (REDIS_URL) every replica reaches, under one key prefix (REDIS_PREFIX). ioredis keeps
 * the connection and reconnects by itself; commands never queue while Redis is away (enableOfflineQueue off) and
 * give up after a short timeout, so a replica whose Redis is down or slow answers from its in-process fallbacks
 * instead of waiting. `state()` says which it is using, for /health; each failed command is counted for /metrics.
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'

const DEFAULT_REDIS_PREFIX = 'tce:'
/** A command slower than this counts as Redis being unavailable (the caller falls back). */
const STORE_COMMAND_TIMEOUT_MS = 500

type StoreStatus = 'ready' | 'degraded'

export interface StoreState {
  readonly status: StoreStatus
  /** Why it is degraded (never the URL: it may carry a password). */
  readonly reason?: string
}

export interface SharedStoreOptions {
  readonly url: string
  readonly prefix?: string
  readonly commandTimeoutMs?: number
  /** Told of every failed command (for the metrics). */
  readonly onError?: (operation: string) => void
}

export class SharedStore {
  readonly instanceId = randomUUID()
  readonly #redis: Redis
  #subscriber: Redis | undefined
  readonly #prefix: string
  readonly #onError: (operation: string) => void
  #lastError: string | undefined
  readonly #handlers = new Map<string, ((message: string) => void)[]>()

  constructor(options: SharedStoreOptions) {
    this.#prefix = options.prefix ?? DEFAULT_REDIS_PREFIX
    this.#onError = options.onError ?? (() => undefined)
    this.#redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? STORE_COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      // Reconnect for ever, backing off to 2 s between tries.
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: false,
    })
    this.#redis.on('error', (err: Error) => {
      this.#lastError = describe(err)
    })
    this.#redis.on('ready', () => {
      this.#lastError = undefined
    })
  }

  /** `prefix` + the parts joined by ':' (each part escaped of ':' so two keys can never collide). */
  key(...parts: readonly string[]): string {
    return this.#prefix + parts.map((p) => p.replace(/%/g, '%25').replace(/:/g, '%3A')).join(':')
  }

  state(): StoreState {
    if (this.#redis.status === 'ready') return { status: 'ready' }
    return { status: 'degraded', reason: this.#lastError ?? `connection ${this.#redis.status}` }
  }

  /** Resolves once connected, or after `ms` (then commands fail and callers fall back). */
  async whenReady(ms: number): Promise<void> {
    if (this.ready) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#redis.off('ready', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#redis.once('ready', done)
    })
  }

  get ready(): boolean {
    return this.#redis.status === 'ready'
  }

  /**
   * Runs a command (the store's own, or a caller's: sorted sets, MGET), counting its failure under `operation`:
   * throws when Redis is not ready or does not answer in time, and the failure shows in /health and /metrics.
   */
  async run<T>(operation: string, command: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      if (this.#redis.status !== 'ready') throw new Error(`redis is ${this.#redis.status}`)
      return await command(this.#redis)
    } catch (err) {
      this.#lastError = describe(err)
      this.#onError(operation)
      throw err
    }
  }

  eval(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.run('eval', (r) => r.eval(script, keys.length, ...keys, ...args))
  }

  get(key: string): Promise<string | null> {
    return this.run('get', (r) => r.get(key))
  }

  /** SET with a time to live in ms; `onlyIfAbsent`: SET NX (true when it was set). */
  async set(key: string, value: string, ttlMs: number, onlyIfAbsent = false): Promise<boolean> {
    const ms = Math.max(1, Math.ceil(ttlMs))
    const answer = await this.run('set', (r) =>
      onlyIfAbsent ? r.set(key, value, 'PX', ms, 'NX') : r.set(key, value, 'PX', ms),
    )
    return answer === 'OK'
  }

  del(key: string): Promise<number> {
    return this.run('del', (r) => r.del(key))
  }

  publish(channel: string, message: string): Promise<number> {
    return this.run('publish', (r) => r.publish(this.#prefix + channel, message))
  }

  /** Hears every message on `channel` (from any replica, this one included); resubscribes after a reconnect. */
  subscribe(channel: string, handler: (message: string) => void): void {
    const name = this.#prefix + channel
    const list = this.#handlers.get(name) ?? []
    list.push(handler)
    this.#handlers.set(name, list)
    if (this.#subscriber === undefined) {
      // Resubscribed here rather than by ioredis: its own resubscribe leaves the promise unhandled, so a connection
      // that drops again during it (Redis flapping, or closing) raised an unhandled rejection.
      const subscriber = (this.#subscriber = this.#redis.duplicate({
        enableOfflineQueue: true,
        autoResubscribe: false,
      }))
      let connectedBefore = false
      subscriber.on('ready', () => {
        if (connectedBefore)
          for (const known of this.#handlers.keys()) subscriber.subscribe(known).catch(() => this.#onError('subscribe'))
        connectedBefore = true
      })
      this.#subscriber.on('error', () => undefined)
      this.#subscriber.on('message', (ch: string, message: string) => {
        for (const h of this.#handlers.get(ch) ?? []) h(message)
      })
    }
    this.#subscriber.subscribe(name).catch(() => this.#onError('subscribe'))
  }

  /**
   * The underlying client, for libraries that take one (the /run rate limit); the app's own commands go through run().
   */
  get client(): Redis {
    return this.#redis
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#redis.quit(), this.#subscriber?.quit()])
    this.#redis.disconnect()
    this.#subscriber?.disconnect()
  }
}

/** An error's message without anything that could be a credential (ioredis messages may quote the URL). */
const describe = (err: unknown): string => {
  const message = err instanceof Error ? err.message : String(err)
  return message.replace(/\b[a-z]+:\/\/[^\s]*/gi, '<url>').slice(0, 200)
}
