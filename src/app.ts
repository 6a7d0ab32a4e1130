/**
 * buildApp(config) makes one isolated service instance. The app is a plugin tree, and every resource is made inside
 * the plugin that owns it and closed by it: the process's context first (closed last), enrichment (the sources), the
 * alert service and the feed schedule on that same context; then the external plugins, the error handler and the
 * routes.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import type { ServiceConfig } from './config/env.js'
import { loadContract } from './contract/load.js'
import type { Contract } from './contract/types.js'
import processContext from './plugins/app/process-context.js'
import enrichment from './plugins/app/enrichment.js'
import feedSchedule from './plugins/app/feed-schedule.js'
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
import type { AlertConfig } from './alerts/config.js'
import alertsPlugin from './plugins/app/alerts.js'
import { keyHeaderOf } from './contract/request-params.js'
import alertsRoute from './routes/alerts.js'
import statusRoute from './routes/status.js'

export interface BuildAppOptions {
  readonly config: ServiceConfig
  /** Defaults to the registry; tests pass their own. */
  readonly sources?: readonly SourceDefinition[]
  /** Defaults to app.config.json + layouts/layout.json from the project root, checked against the sources. */
  readonly contract?: Contract
  /** Defaults to a pino logger at config.logLevel on stdout. */
  readonly logger?: Logger
  readonly now?: () => Date
  /** FEED_SCHEDULE: the feed job on its cron beside the service, reading its settings from `env`. */
  readonly feeds?: { readonly schedule: string | undefined; readonly env: Readonly<Record<string, string | undefined>> }
  /**
   * The alert service (ALERTS_CONFIG): its settings and rules, and the environment its notifiers and platform client
   * read.
   */
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
  const contract = options.contract ?? loadContract({ sources })
  // Request headers are not logged; were a serializer to add them, the bearer token and vendor keys stay out.
  const secretHeaders = contract.config.params.filter((p) => p.encrypt === true).map((p) => keyHeaderOf(p.name))
  const logger =
    options.logger ??
    pino({
      level: config.logLevel,
      redact: ['req.headers.authorization', ...secretHeaders.map((h) => `req.headers["${h}"]`)],
    })
  const product = contract.config.displayName

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
  try {
    await app.register(processContext, { config, userAgent: `${product}/${contract.config.programVersion}` })
    await app.register(enrichment, { contract, sources, ...(options.now !== undefined ? { now: options.now } : {}) })
    const a = options.alerts
    await app.register(alertsPlugin, {
      config: a?.config,
      env: a?.env ?? {},
      product,
      ...(a?.now !== undefined ? { now: a.now } : {}),
      ...(a?.leaseMs !== undefined ? { leaseMs: a.leaseMs } : {}),
      ...(a?.tickMs !== undefined ? { tickMs: a.tickMs } : {}),
    })
    await app.register(feedSchedule, { schedule: options.feeds?.schedule, env: options.feeds?.env ?? {} })
    await app.register(errorHandler)
    await app.register(jsonBody)
    await app.register(gracefulClose)
    await app.register(securityHeaders)
    await app.register(loadShedding, { maxEventLoopDelayMs: config.maxEventLoopDelayMs })
    await app.register(runRateLimit, {
      limit: config.runRateLimit,
      redis: app.context.shared.store?.client,
      prefix: config.redisPrefix,
    })
    await app.register(openApi, {
      title: product,
      version: contract.config.programVersion,
      description: contract.config.note ?? '',
    })
    await app.register(runRoute)
    await app.register(healthRoute)
    await app.register(contractRoute)
    await app.register(metricsRoute)
    await app.register(alertsRoute)
    await app.register(statusRoute)
    await app.ready()
  } catch (err) {
    // Whatever the plugins opened before the failure, they close.
    await app.close().catch(() => undefined)
    throw err
  }
  return app
}
