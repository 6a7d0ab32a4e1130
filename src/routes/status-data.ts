/**
 * What GET /status.json answers, gathered from the parts that know it: the sources (health, circuit, quota), the
 * run history, the feed schedule, the alert outbox, the shared store. A part that cannot answer (Redis away) is said
 * in its own place; the rest still shows. The source state is worked out here, in one place.
 */
import type { FastifyInstance } from 'fastify'
import type { Worker } from '../alerts/worker.js'
import { formatRateLimit } from '../config/rate-limit.js'
import { runAuthWarning } from '../config/env.js'
import type { SourceLatency } from '../enrich/run-history.js'
import type { UpstreamState } from '../sources/types.js'
import type { StatusReply } from '../schemas/status.js'
import { readRedisPersistence } from '../state/persistence.js'
import type { SharedStore } from '../state/store.js'

type SourceRow = StatusReply['sources'][number]

/** Read only what was asked: an unreadable part is said, never thrown (the page must draw). */
const failedText = (err: unknown): string => (err as Error).message.slice(0, 200)

/** The one place a source's state is decided, most pressing first. */
const stateOf = (
  health: 'ready' | 'unavailable' | 'not_configured',
  upstream: UpstreamState | undefined,
  latency: SourceLatency,
): SourceRow['state'] => {
  if (upstream?.circuit === 'open' || health === 'unavailable') return 'circuit_open'
  if (upstream?.quota.some((q) => q.pausedMs > 0) === true) return 'paused'
  if (health === 'not_configured') return 'not_configured'
  const called = latency.ok + latency.failed
  if (upstream?.circuit === 'half_open' || (called >= 2 && latency.failed * 2 >= called)) return 'degraded'
  return 'ok'
}

const sourcesOf = async (app: FastifyInstance, nowMs: number): Promise<SourceRow[]> => {
  const ctx = app.enrichment
  const upstreams = await ctx.runtime.upstreams()
  return ctx.runtime.health().map((h): SourceRow => {
    const up = upstreams.get(h.id)
    const upstream = up !== undefined && !('error' in up) ? up : undefined
    const latency = ctx.history.source(h.id)
    return {
      id: h.id,
      title: ctx.runtime.definition(h.id)?.title ?? h.id,
      kind: h.kind,
      state: stateOf(h.state, upstream, latency),
      detail: h.detail,
      ...(upstream !== undefined ? { circuit: upstream.circuit, queued: upstream.queued } : {}),
      quota: (upstream?.quota ?? []).map((q) => ({
        key: q.key,
        windows: q.windows.map((w) => ({
          limit: formatRateLimit(w),
          requests: w.requests,
          perSeconds: w.perMs / 1000,
          used: w.used,
          left: Math.max(0, w.requests - w.used),
        })),
        ...(q.pausedMs > 0 ? { pausedUntil: new Date(nowMs + q.pausedMs).toISOString() } : {}),
      })),
      ...(up !== undefined && 'error' in up ? { quotaError: up.error } : {}),
      ...latency,
    }
  })
}

const feedsOf = (app: FastifyInstance): StatusReply['feeds'] => {
  const schedule = app.feedSchedule?.status()
  if (schedule === undefined) return { enabled: false, feeds: [] }
  return {
    enabled: true,
    schedule: schedule.schedule,
    ...(schedule.nextRun !== undefined ? { nextRun: schedule.nextRun } : {}),
    feeds: Object.entries(schedule.history).map(([feed, runs]) => {
      const last = runs[runs.length - 1]
      return {
        feed,
        lastStatus: last?.status ?? 'none',
        held: last?.held ?? 0,
        heldWhy: last !== undefined && last.held > 0 ? [...last.notes] : [],
        runs: runs.map(({ feed: _feed, ...r }) => ({ ...r, notes: [...r.notes] })),
      }
    }),
  }
}

/** How many of the newest outbox entries are read to find the last errors. */
const RECENT_ENTRIES = 200

const alertsOf = async (worker: Worker | undefined): Promise<StatusReply['alerts']> => {
  if (worker === undefined) return { enabled: false, counts: {}, lastErrors: [], silences: [] }
  const warning =
    worker.durability !== undefined && !worker.durability.durable ? { warning: worker.durability.detail } : {}
  try {
    const [listing, silences] = await Promise.all([worker.outbox.list({ limit: RECENT_ENTRIES }), worker.silences()])
    return {
      enabled: true,
      counts: { ...listing.counts },
      lastErrors: listing.entries
        .filter((e) => (e.state === 'failed' || e.state === 'dead') && e.lastError !== undefined)
        .slice(0, 5)
        .map((e) => ({
          destination: worker.labelOf(e.destination),
          ...(e.alert?.rule !== undefined ? { rule: e.alert.rule } : {}),
          state: e.state,
          attempts: e.attempts,
          lastError: e.lastError ?? '',
          createdAt: new Date(e.createdAt).toISOString(),
        })),
      silences: silences.map((s) => ({
        id: s.id,
        ...(s.rule !== undefined ? { rule: s.rule } : {}),
        ...(s.indicator !== undefined ? { indicator: s.indicator } : {}),
        endsAt: new Date(s.endsAt).toISOString(),
        comment: s.comment,
      })),
      ...warning,
    }
  } catch (err) {
    return {
      enabled: true,
      counts: {},
      lastErrors: [],
      silences: [],
      ...warning,
      error: `the outbox cannot be read: ${failedText(err)}`,
    }
  }
}

/** How often the page asks Redis how it persists (an operator's change shows within this). */
const PERSISTENCE_TTL_MS = 60_000

/**
 * Redis without an append-only file: a restart loses the feed state (the next run uploads every indicator again and
 * forgets the removals it held back), the quotas' counts and the outbox. Read at most once a minute.
 */
export const makePersistenceWarning = (store: SharedStore | undefined, now: () => number = Date.now) => {
  let cached: { at: number; warning: string | undefined } | undefined
  return async (): Promise<string | undefined> => {
    if (store === undefined || !store.ready) return undefined
    if (cached !== undefined && now() - cached.at < PERSISTENCE_TTL_MS) return cached.warning
    const p = await readRedisPersistence(store)
    const warning =
      'unknown' in p
        ? `Redis persistence could not be read (${p.unknown}): make sure appendonly is yes`
        : p.appendonly
          ? undefined
          : `Redis does not keep an append-only file (appendonly no${p.save !== '' ? `; snapshots only, save "${p.save}"` : ', no snapshots'}): a Redis restart loses the feed state, the quota counts and the alert outbox since the last snapshot. Set appendonly yes`
    cached = { at: now(), warning }
    return warning
  }
}

export const collectStatus = async (
  app: FastifyInstance,
  startedAtMs: number,
  persistenceWarning: () => Promise<string | undefined>,
): Promise<StatusReply> => {
  const ctx = app.enrichment
  const nowMs = ctx.now().getTime()
  const [sources, alerts, persistence] = await Promise.all([
    sourcesOf(app, nowMs),
    alertsOf(app.alerts),
    persistenceWarning(),
  ])
  const sharedStore = ctx.shared.state()
  // The outbox's own durability warning says the same of the outbox: one of the two is enough.
  const warnings = [runAuthWarning(ctx.config), persistence ?? alerts.warning].filter(
    (w): w is string => w !== undefined,
  )
  const reason = 'reason' in sharedStore ? sharedStore.reason : undefined
  if (sharedStore.status === 'degraded')
    warnings.push(`the shared store (Redis) is unreachable: ${reason ?? 'no answer'}; fallbacks in use`)
  return {
    generatedAt: new Date(nowMs).toISOString(),
    instance: {
      app: ctx.meta.appName,
      version: ctx.meta.appVersion,
      uptimeSeconds: Math.round((Date.now() - startedAtMs) / 1000),
    },
    sources,
    runs: { windowMinutes: 60, ...ctx.history.hour(), perMinute: ctx.history.minutes() },
    feeds: feedsOf(app),
    alerts,
    sharedStore: { status: sharedStore.status, ...(reason !== undefined ? { reason } : {}) },
    warnings,
  }
}
