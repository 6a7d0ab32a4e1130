/**
 * buildApp(config) makes one isolated service instance: its own logger, contract, sources, metrics.
 * The app is a plugin tree: external plugins (OpenAPI), app plugins (context, errors), then routes.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import type { ServiceConfig } from './config/env.js'
import { loadContract } from './contract/load.js'
import type { Contract } from './contract/types.js'
import { createEnrichmentContext } from './enrichment-context.js'
import enrichment from './plugins/app/enrichment.js'
import { createBoundedServer } from './plugins/app/connection-limits.js'
import errorHandler from './plugins/app/error-handler.js'
import gracefulClose from './plugins/app/graceful-close.js'
import jsonBody from './plugins/app/json-body.js'
import securityHeaders from './plugins/external/helmet.js'
import runRateLimit from './plugins/external/rate-limit.js'
import openApi from './plugins/external/swagger.js'
import loadShedding from './plugins/external/under-pressure.js'
import contractRoute from './routes/contract.js'
import healthRoute from './routes/health.js'
import metricsRoute from './routes/metrics.js'
import runRoute from './routes/run.js'
import { SOURCE_DEFINITIONS } from './sources/registry.js'
import type { SourceDefinition } from './sources/types.js'
import type { FeedSchedule } from './feed-job/schedule.js'
import type { AlertConfig } from './alerts/config.js'
import type { AlertService } from './alerts/alert-service.js'
import { findProjectRoot } from './contract/project-root.js'
import { createHttpClientFactory } from './http/client.js'
import alertsPlugin from './plugins/app/alerts.js'
import alertsRoute from './routes/alerts.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The feed job's schedule when FEED_SCHEDULE is set (npm start), else undefined. */
    feedSchedule: Pick<FeedSchedule, 'status'> | undefined
  }
}

export interface BuildAppOptions {
  readonly config: ServiceConfig
  /** Defaults to the registry; tests pass their own. */
  readonly sources?: readonly SourceDefinition[]
  /** Defaults to app.config.json + layouts/layout.json from the project root, checked against the sources. */
  readonly contract?: Contract
  /** Defaults to a pino logger at config.logLevel on stdout. */
  readonly logger?: Logger
  readonly now?: () => Date
  /** The feed job's schedule (FEED_SCHEDULE), for /health. */
  readonly feedSchedule?: Pick<FeedSchedule, 'status'>
  /** The alert service (ALERTS_CONFIG): its settings and rules, and the environment its notifiers and platform client read. */
  readonly alerts?: {
    readonly config: AlertConfig
    readonly env: Readonly<Record<string, string | undefined>>
    /** Wall-clock ms for the outbox (tests). */
    readonly now?: () => number
    readonly tickMs?: number
    readonly leaseMs?: number
  }
}

export const buildApp = async (options: BuildAppOptions): Promise<FastifyInstance> => {
  const { config } = options
  const sources = options.sources ?? SOURCE_DEFINITIONS
  const logger = options.logger ?? pino({ level: config.logLevel, redact: ['req.headers.authorization'] })
  const contract = options.contract ?? loadContract({ sources })
  const context = await createEnrichmentContext(config, contract, sources, logger, options.now)
  let alerts: AlertService | undefined
  if (options.alerts !== undefined) {
    const a = options.alerts
    // Notifiers call out through the same instrumented client as the sources; their calls count as a notifier's.
    const { openAlertService } = await import('./alerts/open.js')
    const http = createHttpClientFactory({ config, log: logger, metrics: context.metrics, userAgent: context.meta.userAgent, quota: context.shared.quota })
    try {
      alerts = openAlertService({
        config: a.config,
        env: a.env,
        root: findProjectRoot(),
        http,
        store: context.shared.store,
        quota: context.shared.quota,
        metrics: context.metrics,
        log: logger,
        product: contract.config.displayName,
        platformPool: context.platform,
        ...(a.now !== undefined ? { now: a.now } : {}),
        ...(a.leaseMs !== undefined ? { leaseMs: a.leaseMs } : {}),
      })
    } catch (err) {
      await context.runtime.close()
      await context.shared.close()
      throw err
    }
  }

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // Strict validation: no type coercion (a "1" stays a string), no silently dropped fields, defaults from the params.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    return503OnClosing: true,
    requestTimeout: config.requestTimeoutMs,
    // Only the load balancers named in TRUST_PROXY may say who the client is (X-Forwarded-For); nobody else.
    trustProxy: config.trustProxy ?? false,
    serverFactory: createBoundedServer(config),
  })
  // JSON only: without this Fastify would take text/plain as a string body; a wrong content type is a 415.
  app.removeContentTypeParser('text/plain')
  app.decorate('feedSchedule', options.feedSchedule)
  try {
    await app.register(enrichment, { context })
    await app.register(alertsPlugin, { service: alerts, schedule: options.alerts?.config.settings.schedule, ...(options.alerts?.tickMs !== undefined ? { tickMs: options.alerts.tickMs } : {}) })
    await app.register(errorHandler)
    await app.register(jsonBody)
    await app.register(gracefulClose)
    await app.register(securityHeaders)
    await app.register(loadShedding, { maxEventLoopDelayMs: config.maxEventLoopDelayMs })
    await app.register(runRateLimit, { limit: config.runRateLimit, redis: context.shared.store?.client, prefix: config.redisPrefix })
    await app.register(openApi, {
      title: contract.config.displayName,
      version: contract.config.programVersion,
      description: contract.config.note ?? '',
    })
    await app.register(runRoute)
    await app.register(healthRoute)
    await app.register(contractRoute)
    await app.register(metricsRoute)
    await app.register(alertsRoute)
    await app.ready()
  } catch (err) {
    await app.close().catch(() => undefined)
    await alerts?.close().catch(() => undefined)
    await context.runtime.close()
    await context.shared.close()
    throw err
  }
  return app
}
