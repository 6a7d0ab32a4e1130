/**
 * GET /status.json: what the status page draws, one object a test (or a script) can read. Every figure is this
 * instance's unless said (quotas, pauses and circuits are the fleet's when REDIS_URL is set). No secret is in it:
 * a key is named by its fingerprint, a destination by its label.
 */
import { Type, type Static } from 'typebox'

const Ms = Type.Union([Type.Number(), Type.Null()], { description: 'Milliseconds; null with no sample.' })
const Counts = Type.Record(Type.String(), Type.Number())

const QuotaWindow = Type.Object({
  limit: Type.String({ description: 'The window as the settings write it, e.g. `4/min`.' }),
  requests: Type.Number(),
  perSeconds: Type.Number(),
  used: Type.Number({ description: 'Calls the window holds now (a call in flight counts until it ends).' }),
  left: Type.Number(),
})

const QuotaKey = Type.Object({
  key: Type.String({ description: 'The fingerprint of the API key (never the key); `nokey`: called without one.' }),
  windows: Type.Array(QuotaWindow),
  pausedUntil: Type.Optional(Type.String({ description: 'A 429 paused every call of this key until then.' })),
})

const SourceStatus = Type.Object({
  id: Type.String(),
  title: Type.String(),
  kind: Type.String(),
  state: Type.Enum(['ok', 'degraded', 'paused', 'circuit_open', 'not_configured'], {
    description:
      'degraded: half or more of its recent lookups failed, or its circuit is testing; paused: a 429 holds a key.',
  }),
  detail: Type.String(),
  circuit: Type.Optional(Type.Enum(['closed', 'open', 'half_open'])),
  queued: Type.Optional(Type.Number()),
  quota: Type.Array(QuotaKey),
  quotaError: Type.Optional(Type.String()),
  lookups: Type.Number({ description: 'Its lookups in the last hour (at most the last 256).' }),
  ok: Type.Number(),
  failed: Type.Number(),
  skipped: Type.Number(),
  p50Ms: Ms,
  p95Ms: Ms,
})

/** What a span of runs (a minute, or the hour) says. */
const runFigures = {
  runs: Type.Number(),
  failedRuns: Type.Number(),
  indicators: Type.Number(),
  byVerdict: Counts,
  p50Ms: Ms,
  p95Ms: Ms,
}

const Runs = Type.Object({
  windowMinutes: Type.Number(),
  ...runFigures,
  perMinute: Type.Array(Type.Object({ at: Type.String(), ...runFigures })),
})

const FeedRun = Type.Object({
  tick: Type.String(),
  at: Type.String(),
  status: Type.String(),
  added: Type.Number(),
  updated: Type.Number(),
  removed: Type.Number(),
  invalid: Type.Number(),
  held: Type.Number(),
  failed: Type.Number(),
  notes: Type.Array(Type.String()),
})

const Feeds = Type.Object({
  enabled: Type.Boolean({ description: 'FEED_SCHEDULE is set on this instance.' }),
  schedule: Type.Optional(Type.String()),
  nextRun: Type.Optional(Type.String()),
  feeds: Type.Array(
    Type.Object({
      feed: Type.String(),
      lastStatus: Type.String(),
      held: Type.Number({ description: 'Removals held back at its last run.' }),
      heldWhy: Type.Array(Type.String(), { description: "The last run's notes when removals are held." }),
      runs: Type.Array(FeedRun, { description: 'Its recent runs on this instance, oldest first.' }),
    }),
  ),
})

const Alerts = Type.Object({
  enabled: Type.Boolean({ description: 'ALERTS_CONFIG is set on this instance.' }),
  counts: Counts,
  lastErrors: Type.Array(
    Type.Object({
      destination: Type.String(),
      rule: Type.Optional(Type.String()),
      state: Type.String(),
      attempts: Type.Number(),
      lastError: Type.String(),
      createdAt: Type.String(),
    }),
  ),
  silences: Type.Array(
    Type.Object({
      id: Type.String(),
      rule: Type.Optional(Type.String()),
      indicator: Type.Optional(Type.String()),
      endsAt: Type.String(),
      comment: Type.String(),
    }),
  ),
  warning: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
})

export const StatusReply = Type.Object({
  generatedAt: Type.String(),
  instance: Type.Object({ app: Type.String(), version: Type.String(), uptimeSeconds: Type.Number() }),
  sources: Type.Array(SourceStatus),
  runs: Runs,
  feeds: Feeds,
  alerts: Alerts,
  sharedStore: Type.Object({ status: Type.Enum(['off', 'ready', 'degraded']), reason: Type.Optional(Type.String()) }),
  warnings: Type.Array(Type.String()),
})
export type StatusReply = Static<typeof StatusReply>
