/**
 * What a process that runs once and exits (`npm run feed`, `npm run alerts`) calls out with: the service's settings
 * from the environment, a logger on stderr (stdout carries the job's progress and its summary line), metrics, the
 * shared state (Redis when REDIS_URL is set, so quotas and open circuits are the fleet's) and the request client
 * factory over them. Both jobs open it the same way, so they cannot drift apart.
 */
import { pino, type Logger } from 'pino'
import { loadServiceConfig, type ServiceConfig } from '../config/env.js'
import { Metrics, SERVICE_METRICS, SHARED_STORE_ERRORS_TOTAL } from '../metrics.js'
import { createSharedState, type SharedState } from '../state/shared-state.js'
import { createHttpClientFactory } from './client.js'
import type { HttpClientFactory } from './types.js'

export interface JobClients {
  readonly config: ServiceConfig
  readonly log: Logger
  readonly metrics: Metrics
  readonly shared: SharedState
  readonly http: HttpClientFactory
  close(): Promise<void>
}

/** How long a job waits for Redis before going on with its in-process fallbacks. */
export const JOB_STORE_WAIT_MS = 5_000

export const openJobClients = async (env: Readonly<Record<string, string | undefined>>, userAgent: string): Promise<JobClients> => {
  // A job listens on nothing: HOST only keeps the service's off-loopback checks from applying.
  const config = loadServiceConfig({ ...env, HOST: '127.0.0.1' }, [])
  // At the default level a job writes warnings and errors only: its info lines are its own progress output.
  const log = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel }, pino.destination(2))
  const metrics = new Metrics(SERVICE_METRICS)
  const shared = await createSharedState(config, (operation) => metrics.inc(SHARED_STORE_ERRORS_TOTAL, { operation }))
  const http = createHttpClientFactory({ config, log, metrics, userAgent, quota: shared.quota, breakerBus: shared.breakerBus })
  if (shared.store !== undefined) await shared.store.whenReady(JOB_STORE_WAIT_MS)
  return { config, log, metrics, shared, http, close: () => shared.close() }
}
