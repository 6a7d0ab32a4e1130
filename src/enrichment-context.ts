/**
 * Everything one app instance runs with, built once by buildApp: settings, the checked contract, the started
 * sources, metrics. Passed explicitly (no module-level singletons), so every test gets its own.
 */
import type { Logger } from 'pino'
import type { ServiceConfig } from './config/env.js'
import { indexOutputs, type OutputIndex } from './contract/outputs.js'
import type { Contract } from './contract/types.js'
import { SourceRuntime } from './enrich/source-runtime.js'
import { createHttpClientFactory } from './http/client.js'
import { Metrics, SERVICE_METRICS, SHARED_STORE_ERRORS_TOTAL } from './metrics.js'
import { createSharedState, type SharedState } from './state/shared-state.js'
import { memoryFindingStore, sharedFindingStore } from './enrich/finding-store.js'
import { createPlatformClientPool, type PlatformClientPool } from './platform/client.js'
import type { SourceDefinition } from './sources/types.js'

export interface EnrichmentContext {
  readonly config: ServiceConfig
  readonly contract: Contract
  readonly outputs: OutputIndex
  /** Per source id, the fact keys it publishes as outputs enrich.<id>.<key>. */
  readonly sourceOutputs: ReadonlyMap<string, readonly string[]>
  readonly runtime: SourceRuntime
  readonly metrics: Metrics
  /** ThreatConnect clients per API path, for write-back (shared breaker and rate state per platform). */
  readonly platform: PlatformClientPool
  /** Quotas, circuits, locks: shared through Redis when REDIS_URL is set, else in this process. */
  readonly shared: SharedState
  readonly meta: { readonly appName: string; readonly appVersion: string; readonly userAgent: string }
  readonly now: () => Date
}

export const createEnrichmentContext = async (
  config: ServiceConfig,
  contract: Contract,
  sources: readonly SourceDefinition[],
  log: Logger,
  now: () => Date = () => new Date(),
): Promise<EnrichmentContext> => {
  const appName = contract.config.displayName
  const appVersion = contract.config.programVersion
  const userAgent = `${appName}/${appVersion}`
  const metrics = new Metrics(SERVICE_METRICS, { processMetrics: true })
  const shared = await createSharedState(config, (operation) => metrics.inc(SHARED_STORE_ERRORS_TOTAL, { operation }))
  const http = createHttpClientFactory({ config, log, metrics, userAgent, quota: shared.quota, breakerBus: shared.breakerBus })
  const findings = shared.store === undefined ? memoryFindingStore() : sharedFindingStore(shared.store)
  let runtime: SourceRuntime
  try {
    runtime = await SourceRuntime.start(sources, config, { log, http }, metrics, findings)
  } catch (err) {
    await shared.close()
    throw err
  }
  return {
    config,
    contract,
    outputs: indexOutputs(contract.config),
    sourceOutputs: new Map(sources.map((s) => [s.id, s.outputs.map((o) => o.key)])),
    runtime,
    metrics,
    platform: createPlatformClientPool(http),
    shared,
    meta: { appName, appVersion, userAgent },
    now,
  }
}
