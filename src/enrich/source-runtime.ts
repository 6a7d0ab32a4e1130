/**
 * The started sources of one app instance: each lookup goes through here, so support checks, per-request
 * settings, the cache, in-flight sharing, the run deadline and failure reporting happen in one place.
 */
import type { Logger } from 'pino'
import { SourceError, type SourceFailureKind } from '../errors.js'
import type { ServiceConfig } from '../config/env.js'
import type { Indicator } from '../indicators/types.js'
import type { Finding, LookupContext, SourceDefinition, SourceDeps, SourceHealth, SourceInstance } from '../sources/types.js'
import { SOURCE_CACHE_HITS_TOTAL as CACHE_HITS, SOURCE_CALL_DURATION_SECONDS } from '../metrics.js'
import { boundFinding } from './bound-finding.js'
import { keyPrint } from '../state/key-print.js'
import { memoryFindingStore, type FindingRef, type FindingStore } from './finding-store.js'
import type { SourceOutcome } from './types.js'

export interface MetricsSink {
  inc(name: string, labels: Record<string, string>, by?: number): void
  observe(name: string, labels: Record<string, string>, seconds: number): void
}

export interface LookupOptions {
  readonly signal: AbortSignal
  readonly forceRefresh: boolean
  /** Request params that override a source's settings, by param name (e.g. virustotal_api_key). */
  readonly params: Readonly<Record<string, unknown>>
  readonly log: Logger
}

export interface SourceStatus extends SourceHealth {
  readonly id: string
  readonly kind: 'embedded' | 'vendor'
  readonly supports: readonly string[]
}

const describeKind = (kind: SourceFailureKind): string => kind.replace(/_/g, ' ')

export class SourceRuntime {
  private readonly inFlight = new Map<string, Promise<Finding>>()

  private constructor(
    private readonly started: ReadonlyMap<string, { def: SourceDefinition; instance: SourceInstance }>,
    private readonly config: ServiceConfig,
    private readonly cache: FindingStore,
    private readonly metrics: MetricsSink,
  ) {}

  /** Starts every source once; a source that cannot start stops start-up with a message naming it. */
  static async start(
    definitions: readonly SourceDefinition[],
    config: ServiceConfig,
    deps: SourceDeps,
    metrics: MetricsSink,
    cache: FindingStore = memoryFindingStore(),
  ): Promise<SourceRuntime> {
    const started = new Map<string, { def: SourceDefinition; instance: SourceInstance }>()
    for (const def of definitions) {
      try {
        const instance = await def.start(config, { ...deps, log: deps.log.child({ source: def.id }) })
        started.set(def.id, { def, instance })
      } catch (err) {
        await Promise.allSettled([...started.values()].map((s) => s.instance.close?.()))
        throw new Error(`source '${def.id}' could not start: ${(err as Error).message}`, { cause: err })
      }
    }
    return new SourceRuntime(started, config, cache, metrics)
  }

  ids(): string[] {
    return [...this.started.keys()]
  }

  definition(id: string): SourceDefinition | undefined {
    return this.started.get(id)?.def
  }

  health(): SourceStatus[] {
    return [...this.started.values()].map(({ def, instance }) => ({
      id: def.id,
      kind: def.kind,
      supports: def.supports,
      ...instance.health(),
    }))
  }

  /** Settings for one request: the request's params override the service's env defaults for that request only. */
  settingsFor(def: SourceDefinition, params: Readonly<Record<string, unknown>>): Record<string, string | undefined> {
    const own: Record<string, string | undefined> = { ...(this.config.sources[def.id] ?? {}) }
    for (const s of def.settings) {
      const v = s.param === undefined ? undefined : params[s.param]
      if (typeof v === 'string' && v !== '') own[s.key] = v
    }
    return own
  }

  /** Never rejects: every failure becomes an outcome with its reason. Timed per source and status. */
  async lookup(id: string, indicator: Indicator, opts: LookupOptions): Promise<SourceOutcome> {
    const outcome = await this.#lookup(id, indicator, opts)
    this.metrics.observe(SOURCE_CALL_DURATION_SECONDS, { source: id, status: outcome.status }, outcome.elapsedMs / 1000)
    return outcome
  }

  async #lookup(id: string, indicator: Indicator, opts: LookupOptions): Promise<SourceOutcome> {
    const startedAt = performance.now()
    const elapsed = (): number => Math.round(performance.now() - startedAt)
    const entry = this.started.get(id)
    if (!entry) return { source: id, status: 'skipped', kind: 'not_configured', reason: 'not a source of this service', elapsedMs: 0 }
    const { def, instance } = entry
    if (!def.supports.includes(indicator.type)) {
      return {
        source: id,
        status: 'skipped',
        kind: 'unsupported_type',
        reason: `does not support ${indicator.type} indicators (supports ${def.supports.join(', ')})`,
        elapsedMs: 0,
      }
    }
    const settings = this.settingsFor(def, opts.params)
    const ttl = def.cacheTtlMs ?? 0
    const ref: FindingRef = { source: id, keyPrint: keyPrint(settings['apiKey']), type: indicator.type, value: indicator.value }
    if (ttl > 0 && !opts.forceRefresh) {
      const hit = await this.cache.get(ref, ttl)
      if (hit) {
        this.metrics.inc(CACHE_HITS, { source: id })
        return { source: id, status: 'ok', finding: hit.finding, elapsedMs: elapsed(), cached: true, ageMs: hit.ageMs }
      }
    }
    try {
      const key = `${id}\u0000${indicator.type}\u0000${indicator.value}\u0000${ref.keyPrint}`
      const call = (): Promise<Finding> => instance.lookup(indicator, lookupContext(id, opts, settings))
      // Bounded before anything keeps it: a bad answer costs only this source its raw answer.
      const { finding, bytes } = boundFinding(await withDeadline(this.shared(key, call), opts.signal))
      if (ttl > 0) await this.cache.set(ref, finding, bytes, ttl)
      return { source: id, status: 'ok', finding, elapsedMs: elapsed(), cached: false, ageMs: 0 }
    } catch (err) {
      if (err instanceof SourceError) {
        return {
          source: id,
          status: err.skipped ? 'skipped' : 'failed',
          kind: err.kind,
          reason: `${describeKind(err.kind)} - ${err.message}`,
          elapsedMs: elapsed(),
        }
      }
      opts.log.error({ err, source: id }, 'source lookup failed unexpectedly')
      return { source: id, status: 'failed', kind: 'internal', reason: 'internal - unexpected error in the source (see the service log)', elapsedMs: elapsed() }
    }
  }

  /** Two lookups of the same thing at the same time share one call. */
  private shared(key: string, call: () => Promise<Finding>): Promise<Finding> {
    const running = this.inFlight.get(key)
    if (running) return running
    const p = call().finally(() => this.inFlight.delete(key))
    this.inFlight.set(key, p)
    return p
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.started.values()].map((s) => s.instance.close?.()))
  }
}

/** The source's child logger is made only if the source logs: most lookups never do, and it showed in profiles. */
const lookupContext = (id: string, opts: LookupOptions, settings: Readonly<Record<string, string | undefined>>): LookupContext => {
  let log: Logger | undefined
  return {
    signal: opts.signal,
    forceRefresh: opts.forceRefresh,
    settings,
    get log(): Logger {
      return (log ??= opts.log.child({ source: id }))
    },
  }
}

/** Settles when the lookup does or when the run's deadline passes, whichever is first: a stuck source cannot hold a run. */
const withDeadline = <T>(work: Promise<T>, signal: AbortSignal): Promise<T> => {
  if (signal.aborted) return Promise.reject(deadlineError(signal))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(deadlineError(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

const deadlineError = (signal: AbortSignal): SourceError => {
  const reason: unknown = signal.reason
  return reason instanceof SourceError ? reason : new SourceError('cancelled', 'the run was cancelled before the source answered')
}
