/**
 * GET /health: open (no token), says the service is ready and how each source stands. GET /health/live and
 * GET /health/ready are the probes an orchestrator asks: live while the process answers; ready while it takes work
 * (a draining instance answers 503, as every route does while it closes; one whose Redis is away is degraded, and
 * still ready: it serves from its in-process fallbacks).
 */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Worker } from '../alerts/worker.js'
import { runAuthWarning } from '../config/env.js'

const HealthReply = Type.Object({
  status: Type.Enum(['ready', 'degraded'], {
    description: 'degraded: the shared store (Redis) is unreachable and the in-process fallbacks are in use.',
  }),
  app: Type.String(),
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  warnings: Type.Array(Type.String(), {
    description: 'Settings an operator should know are unsafe, e.g. RUN_AUTH=off off loopback.',
  }),
  sharedStore: Type.Object(
    {
      status: Type.Enum(['off', 'ready', 'degraded']),
      reason: Type.Optional(Type.String()),
    },
    {
      description:
        'off: no REDIS_URL, state kept in this process; ready: shared through Redis; degraded: Redis unreachable.',
    },
  ),
  feeds: Type.Optional(
    Type.Object(
      {
        schedule: Type.String(),
        nextRun: Type.Optional(Type.String()),
        lastRuns: Type.Array(
          Type.Object({
            feed: Type.String(),
            status: Type.Enum(['ok', 'partial', 'failed']),
            at: Type.String(),
            added: Type.Number(),
            updated: Type.Number(),
            removed: Type.Number(),
            failed: Type.Number(),
            notes: Type.Array(Type.String()),
          }),
        ),
      },
      { description: "With FEED_SCHEDULE: the feed job's schedule and each feed's last run." },
    ),
  ),
  alerts: Type.Optional(
    Type.Object(
      {
        pending: Type.Number(),
        failed: Type.Number(),
        dead: Type.Number(),
        sent: Type.Number(),
        silenced: Type.Optional(Type.Number()),
        warning: Type.Optional(
          Type.String({ description: 'The outbox is not durable (Redis without an append-only file).' }),
        ),
        error: Type.Optional(Type.String()),
      },
      { description: 'With ALERTS_CONFIG: the outbox. failed: retried later; dead: given up (GET /alerts says why).' },
    ),
  ),
  sources: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String(),
      state: Type.Enum(['ready', 'unavailable', 'not_configured']),
      detail: Type.String(),
      supports: Type.Array(Type.String()),
    }),
  ),
})

/** The outbox's counts; an outbox that cannot be read is said, not thrown (health must answer). */
const outboxHealth = async (alerts: Worker) => {
  try {
    const { counts } = await alerts.outbox.list({ limit: 0 })
    return {
      pending: counts.pending + counts.sending,
      failed: counts.failed,
      dead: counts.dead,
      sent: counts.sent,
      silenced: counts.silenced,
      ...(alerts.durability !== undefined && !alerts.durability.durable ? { warning: alerts.durability.detail } : {}),
    }
  } catch (err) {
    return {
      pending: 0,
      failed: 0,
      dead: 0,
      sent: 0,
      error: `the outbox cannot be read: ${(err as Error).message.slice(0, 200)}`,
    }
  }
}

const ProbeReply = Type.Object({
  status: Type.Enum(['live', 'ready', 'degraded']),
  reason: Type.Optional(Type.String()),
})

export default async function healthRoute(app: FastifyInstance): Promise<void> {
  const ctx = app.enrichment
  // Set as close() begins (before the runs in flight finish): a load balancer stops sending work at once.
  let draining = false
  app.addHook('preClose', async () => {
    draining = true
  })
  const probes = app.withTypeProvider<TypeBoxTypeProvider>()
  probes.get(
    '/health/live',
    { schema: { summary: 'Liveness probe: the process answers', response: { 200: ProbeReply } } },
    async () => ({ status: 'live' as const }),
  )
  probes.get(
    '/health/ready',
    {
      schema: {
        summary: 'Readiness probe: it takes work (503 while it starts or drains)',
        response: { 200: ProbeReply, 503: ProbeReply },
      },
    },
    async (_request, reply) => {
      if (draining)
        return reply.code(503).send({ status: 'live' as const, reason: 'draining: finishing the runs in flight' })
      const shared = ctx.shared.state()
      return shared.status === 'degraded'
        ? { status: 'degraded' as const, ...(shared.reason !== undefined ? { reason: shared.reason } : {}) }
        : { status: 'ready' as const }
    },
  )
  const startedAt = Date.now()
  const warnings = [runAuthWarning(ctx.config)].filter((w): w is string => w !== undefined)
  // Typed from the reply schema: a field the schema does not declare, or of another type, fails to compile.
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get(
      '/health',
      { schema: { summary: 'Readiness and the state of each source', response: { 200: HealthReply } } },
      async () => {
        const sharedStore = ctx.shared.state()
        const feeds = app.feedSchedule?.status()
        const alerts = app.alerts === undefined ? undefined : await outboxHealth(app.alerts)
        return {
          ...(alerts === undefined ? {} : { alerts }),
          ...(feeds === undefined
            ? {}
            : {
                feeds: {
                  ...feeds,
                  lastRuns: feeds.lastRuns.map((r) => ({ ...r, notes: [...r.notes] })),
                  ...(feeds.nextRun === undefined ? {} : { nextRun: feeds.nextRun }),
                },
              }),
          status: sharedStore.status === 'degraded' ? ('degraded' as const) : ('ready' as const),
          sharedStore,
          app: ctx.meta.appName,
          version: ctx.meta.appVersion,
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
          warnings:
            alerts !== undefined && 'warning' in alerts && alerts.warning !== undefined
              ? [...warnings, alerts.warning]
              : warnings,
          sources: ctx.runtime.health().map((s) => ({ ...s, supports: [...s.supports] })),
        }
      },
    )
}
