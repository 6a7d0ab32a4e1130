/**
 * What enrichment runs with in one app instance: the process's context (settings, metrics, shared state,
 * ThreatConnect clients), the checked contract and its output index, and the started sources. Built once by the
 * enrichment plugin; passed explicitly (no module-level singletons), so every test gets its own.
 */
import type { ServiceConfig } from '../config/env.js'
import type { ProcessContext } from '../context/process-context.js'
import { indexOutputs, type OutputIndex } from '../contract/outputs.js'
import type { Contract } from '../contract/types.js'
import type { Metrics } from '../metrics.js'
import type { PlatformClientPool } from '../platform/client.js'
import type { SourceDefinition } from '../sources/types.js'
import type { SharedState } from '../state/shared-state.js'
import { memoryFindingStore, sharedFindingStore } from './finding-store.js'
import { RunHistory } from './run-history.js'
import { SourceRuntime } from './source-runtime.js'

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
  /** The last hour of this instance's runs and each source's latency (the status page). */
  readonly history: RunHistory
}

/** Starts every source on the process's context; a source that cannot start stops start-up with its name. */
export const startEnrichment = async (
  process: ProcessContext,
  contract: Contract,
  sources: readonly SourceDefinition[],
  now: () => Date = () => new Date(),
): Promise<EnrichmentContext> => {
  const { config, metrics, shared } = process
  const findings = shared.store === undefined ? memoryFindingStore() : sharedFindingStore(shared.store)
  const runtime = await SourceRuntime.start(
    sources,
    config,
    { log: process.log, http: process.http },
    metrics,
    findings,
  )
  return {
    config,
    contract,
    outputs: indexOutputs(contract.config),
    sourceOutputs: new Map(sources.map((s) => [s.id, s.outputs.map((o) => o.key)])),
    runtime,
    metrics,
    platform: process.platform,
    shared,
    meta: {
      appName: contract.config.displayName,
      appVersion: contract.config.programVersion,
      userAgent: process.userAgent,
    },
    now,
    history: new RunHistory(() => now().getTime()),
  }
}
