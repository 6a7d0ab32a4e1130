/**
 * The alert worker inside `npm start` (ALERTS_CONFIG), opened here on the process's context: `app.alerts` for the
 * routes and /run's verdict events; a delivery loop (every second: what is due, grouped by ALERTS_GROUP_WAIT); the
 * polling services on ALERTS_SCHEDULE (croner, one poll at a time). On close the loop stops, a delivery in flight
 * finishes, and the outbox is closed.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { AlertConfig } from '../../alerts/config.js'
import type { Worker } from '../../alerts/worker.js'
import { findProjectRoot } from '../../contract/project-root.js'
import { ALERTS_ERRORS_TOTAL } from '../../metrics.js'
import { processScheduleLock, redisScheduleLock } from '../../state/schedule-lock.js'
import type { RunOptions } from '../../enrich/run.js'
import type { VerdictEvent } from '../../alerts/services/verdict.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The alert worker when ALERTS_CONFIG is set, else undefined. */
    alerts: Worker | undefined
  }
}

interface AlertsPluginOptions {
  /** Its settings and rules; undefined: no alert service. */
  readonly config: AlertConfig | undefined
  /** The environment its notifiers and platform client read. */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly product: string
  /** Wall-clock ms for the outbox (tests). */
  readonly now?: () => number
  readonly leaseMs?: number
  /** How often the delivery loop looks at the outbox (ms). */
  readonly tickMs?: number
}

export default fp(
  async function alerts(app: FastifyInstance, opts: AlertsPluginOptions) {
    if (opts.config === undefined) {
      app.decorate('alerts', undefined)
      return
    }
    const { openAlertWorker } = await import('../../alerts/open.js')
    const service = await openAlertWorker({
      config: opts.config,
      env: opts.env,
      root: findProjectRoot(),
      context: app.context,
      product: opts.product,
      ...(opts.now !== undefined ? { now: opts.now } : {}),
      ...(opts.leaseMs !== undefined ? { leaseMs: opts.leaseMs } : {}),
    })
    app.decorate('alerts', service)
    const schedule = opts.config.settings.schedule
    let delivering: Promise<unknown> | undefined
    // A failing round (the outbox unreachable) is logged when its reason changes or once a minute, not every second.
    let lastProblem: { message: string; at: number } | undefined
    const tick = (): void => {
      if (delivering !== undefined) return
      delivering = service
        .deliverDue()
        .then(() => {
          if (lastProblem !== undefined) app.log.info('alert delivery works again')
          lastProblem = undefined
        })
        .catch((err: unknown) => {
          app.context.metrics.inc(ALERTS_ERRORS_TOTAL, { operation: 'deliver' })
          const message = (err as Error).message
          if (lastProblem?.message !== message || Date.now() - lastProblem.at > 60_000) {
            app.log.warn(
              { err: message, backlog: service.backlog() },
              'alert delivery round failed; the next one tries again',
            )
            lastProblem = { message, at: Date.now() }
          }
        })
        .finally(() => (delivering = undefined))
    }
    let timer: NodeJS.Timeout | undefined
    let cron: { stop(): void } | undefined
    let polling: Promise<void> | undefined
    app.addHook('onReady', async () => {
      timer = setInterval(tick, opts.tickMs ?? 1_000)
      timer.unref()
      if (schedule !== undefined && service.hasPolling) {
        const { Cron } = await import('croner')
        // Several replicas on one Redis: each tick's poll runs on one of them.
        const store = app.context.shared.store
        const lock = store !== undefined ? redisScheduleLock(store) : processScheduleLock()
        const pollTick = async (tick: Date): Promise<void> => {
          const lease = await lock.acquire('alerts-poll', tick.toISOString())
          if ('skipped' in lease) return
          try {
            await service.poll()
          } finally {
            await lease.finish()
          }
        }
        cron = new Cron(schedule, { protect: true }, async (self: { currentRun(): Date | null }) => {
          polling = pollTick(self.currentRun() ?? new Date())
            .catch((err: unknown) => app.log.warn({ err: (err as Error).message }, 'alert polling failed'))
            .finally(() => (polling = undefined))
          await polling
        })
      }
    })
    app.addHook('onClose', async () => {
      clearInterval(timer)
      cron?.stop()
      await Promise.allSettled([delivering, polling])
      await service.close()
    })
  },
  { name: 'alerts', dependencies: ['process-context'] },
)

/**
 * /run's results -> the verdict service's events, when the alert service has verdict rules (else undefined: a run
 * pays nothing). An outbox failure is logged and counted; it never fails the run.
 */
export const verdictListener = (app: FastifyInstance): RunOptions['onResults'] => {
  const service = app.alerts
  if (service?.hearsVerdicts !== true) return undefined
  return async (results, writebacks, log) => {
    const events: VerdictEvent[] = results.map((r, i) => {
      const link = writebacks[i]?.webLink
      return {
        indicator: { type: r.indicator.type, value: r.indicator.value },
        verdict: r.assessment.verdict,
        score: r.assessment.score,
        rating: r.assessment.threatRating,
        confidence: r.assessment.confidence,
        tags: r.assessment.tags,
        because: r.outcomes.flatMap((o) =>
          o.status === 'ok' && (o.finding.verdict === 'malicious' || o.finding.verdict === 'suspicious')
            ? [`${o.source}: ${o.finding.verdict}`]
            : [],
        ),
        ...(link !== undefined ? { link } : {}),
      }
    })
    try {
      await service.observeRun(events)
    } catch (err) {
      app.context.metrics.inc(ALERTS_ERRORS_TOTAL, { operation: 'raise' })
      log.error({ err: (err as Error).message }, 'verdict alerts could not be put in the outbox yet')
    }
  }
}
