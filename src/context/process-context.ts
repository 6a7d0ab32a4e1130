/**
 * What one process runs with, opened once: its settings, logger, metrics, the shared state (Redis when REDIS_URL is
 * set, so quotas, pauses and open circuits are the fleet's), the one request client factory over them, and the
 * ThreatConnect clients. The service opens it inside a Fastify plugin and hands it to the routes, the alert worker
 * and the scheduled feed job; `npm run feed` and `npm run alerts` open it once and share it the same way.
 */
import { pino, type Logger } from 'pino'
import { loadServiceConfig, type ServiceConfig } from '../config/env.js'
import { createHttpClientFactory } from '../http/client.js'
import type { HttpClientFactory } from '../http/types.js'
import { Metrics, SERVICE_METRICS, SHARED_STORE_ERRORS_TOTAL } from '../metrics.js'
import { createPlatformClientPool, type PlatformClientPool } from '../platform/client.js'
import { createSharedState, type SharedState } from '../state/shared-state.js'

export interface ProcessContext {
  readonly config: ServiceConfig
  readonly log: Logger
  readonly metrics: Metrics
  readonly shared: SharedState
  /** Builds each upstream's one instrumented client (sources, notifiers, feeds, the platform). */
  readonly http: HttpClientFactory
  /** ThreatConnect clients per API path: one breaker and quota per instance, for write-back and the watchlist. */
  readonly platform: PlatformClientPool
  /** `<product>/<version>`, sent with every outside call. */
  readonly userAgent: string
  close(): Promise<void>
}

export interface ProcessContextOptions {
  readonly config: ServiceConfig
  readonly log: Logger
  readonly userAgent: string
  /** The service's /metrics also shows the process's own (memory, event loop); a job's metrics do not. */
  readonly processMetrics?: boolean
  /** How long to wait for Redis before going on with the in-process fallbacks (a job); 0: do not wait (the service). */
  readonly storeWaitMs?: number
}

export const openProcessContext = async (options: ProcessContextOptions): Promise<ProcessContext> => {
  const { config, log, userAgent } = options
  const metrics = new Metrics(SERVICE_METRICS, { processMetrics: options.processMetrics ?? false })
  const shared = await createSharedState(config, (operation) => metrics.inc(SHARED_STORE_ERRORS_TOTAL, { operation }))
  const http = createHttpClientFactory({
    config,
    log,
    metrics,
    userAgent,
    quota: shared.quota,
    breakerBus: shared.breakerBus,
  })
  const platform = createPlatformClientPool(http)
  if (shared.store !== undefined && (options.storeWaitMs ?? 0) > 0)
    await shared.store.whenReady(options.storeWaitMs ?? 0)
  return {
    config,
    log,
    metrics,
    shared,
    http,
    platform,
    userAgent,
    async close() {
      platform.close()
      await shared.close()
    },
  }
}

/** How long a job waits for Redis before going on with its in-process fallbacks. */
const JOB_STORE_WAIT_MS = 5_000

/**
 * A one-shot job's context (`npm run feed`, `npm run alerts`): settings from the environment, and a logger on
 * stderr, since stdout carries the job's progress and its summary line.
 */
export const openJobContext = async (
  env: Readonly<Record<string, string | undefined>>,
  userAgent: string,
): Promise<ProcessContext> => {
  // A job listens on nothing: HOST only keeps the service's off-loopback checks from applying.
  const config = loadServiceConfig({ ...env, HOST: '127.0.0.1' }, [])
  // At the default level a job writes warnings and errors only: its info lines are its own progress output.
  const log = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel }, pino.destination(2))
  return openProcessContext({ config, log, userAgent, storeWaitMs: JOB_STORE_WAIT_MS })
}
