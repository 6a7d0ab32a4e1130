/**
 * Opens the alert worker from its checked configuration (src/alerts/config.ts) on the process's context: the outbox
 * (Redis when the context has a shared store, its persistence read and said; else the SQLite file, an earlier
 * version's journal imported once), the plugin context every service and notifier is handed (the one request client,
 * the ThreatConnect client for the watchlist), then the worker. Used by `npm start` (the alerts plugin),
 * `npm run alerts` and `npm run feed`; loaded only when ALERTS_CONFIG is set, so a service without alerts does not pay
 * for nodemailer and the notifiers at start-up.
 */
import { isAbsolute, resolve } from 'node:path'
import { platformProfilesFromEnv } from '../config/platform.js'
import type { ProcessContext } from '../context/process-context.js'
import type { HttpClient } from '../http/types.js'
import type { PluginContext } from './api.js'
import type { AlertConfig } from './config.js'
import { importJournal, takeJournal } from './journal-import.js'
import { createOutbox, type EntryStore } from './outbox.js'
import { openRedisEntryStore, redisDurability, type Durability } from './outbox-redis.js'
import { openSqliteEntryStore } from './outbox-sqlite.js'
import { openWorker, type Worker } from './worker.js'

export interface OpenWorkerOptions {
  readonly config: AlertConfig
  readonly env: Readonly<Record<string, string | undefined>>
  readonly root: string
  readonly context: ProcessContext
  readonly product: string
  readonly now?: () => number
  readonly leaseMs?: number
}

/** Notifiers' and services' HTTP calls: one attempt (the worker owns retries), short timeouts, a small answer. */
const PLUGIN_HTTP = {
  retry: { limit: 0 },
  timeouts: { connectMs: 5_000, responseMs: 10_000, totalMs: 15_000 },
  // A circuit stops hammering a dead endpoint; its skips come back as retries.
  breaker: { failureThreshold: 5, coolDownMs: 30_000 },
  proxyScope: 'external',
  countAs: 'notifier',
  maxResponseBytes: 1024 * 1024,
} as const

const openEntries = async (
  o: OpenWorkerOptions,
): Promise<{ entries: EntryStore; durability: Durability | undefined }> => {
  const { shared, log } = o.context
  if (shared.store !== undefined) {
    const durability = await redisDurability(shared.store)
    if (!durability.durable) log.warn({ redis: durability.detail }, 'the alert outbox in Redis is not durable')
    return { entries: openRedisEntryStore(shared.store), durability }
  }
  const path = isAbsolute(o.config.settings.outboxPath)
    ? o.config.settings.outboxPath
    : resolve(o.root, o.config.settings.outboxPath)
  const journal = takeJournal(path)
  const entries = openSqliteEntryStore(path)
  if (journal !== undefined) {
    const n = await importJournal(journal, entries)
    log.info({ entries: n, from: journal }, 'the outbox journal of an earlier version was imported')
  }
  return { entries, durability: undefined }
}

export const openAlertWorker = async (o: OpenWorkerOptions): Promise<Worker> => {
  const { http, metrics, log, shared } = o.context
  const { profiles } = platformProfilesFromEnv(o.env)
  const platform = profiles.default
  const clients: HttpClient[] = []
  const tc = platform.configured ? o.context.platform.clientFor(platform) : undefined
  const now = o.now ?? Date.now
  const pluginContext: PluginContext = {
    log,
    product: o.product,
    env: o.env,
    savedQueries: o.config.savedQueries,
    now,
    http: (options) => {
      const client = http({
        sourceId: options.name,
        baseUrl: options.baseUrl,
        ...PLUGIN_HTTP,
        ...(options.timeouts !== undefined ? { timeouts: { ...PLUGIN_HTTP.timeouts, ...options.timeouts } } : {}),
      })
      clients.push(client)
      return client
    },
    ...(tc !== undefined
      ? { threatConnect: { owner: platform.owner, queryIndicators: (tql, opts) => tc.queryIndicators(tql, opts) } }
      : {}),
  }
  const { entries, durability } = await openEntries(o)
  const outbox = createOutbox(entries)
  let worker: Worker
  try {
    worker = await openWorker({
      config: o.config,
      outbox,
      context: pluginContext,
      quota: shared.quota,
      metrics,
      log,
      now,
      ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
      ...(durability !== undefined ? { durability } : {}),
    })
  } catch (err) {
    await outbox.close()
    for (const c of clients) c.close()
    throw err
  }
  return {
    ...worker,
    async close() {
      await worker.close()
      for (const c of clients) c.close()
    },
  }
}
