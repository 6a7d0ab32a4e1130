/**
 * The started sources of one app instance: each lookup goes through here, so support checks, per-request
 * settings, the cache, in-flight sharing, the run deadline and failure reporting happen in one place.
 */
import type { Logger } from 'pino'
import { SourceError, type SourceFailureKind } from '../errors.js'
import type { ServiceConfig } from '../config/env.js'
import type { Indicator } from '../indicators/types.js'
import type {
  Finding,
  LookupContext,
  SourceDefinition,
  SourceDeps,
  SourceHealth,
  SourceInstance,
  UpstreamState,
} from '../sources/types.js'
import { SOURCE_CACHE_HITS_TOTAL as CACHE_HITS, SOURCE_CALL_DURATION_SECONDS } from '../metrics.js'
import { boundFinding, findingBytes } from './bound-finding.js'
import { keyPrint } from '../state/key-print.js'
import { memoryFindingStore, type FindingRef, type FindingStore } from './finding-store.js'
import type { SourceOutcome } from './types.js'

export interface MetricsSink {
  inc(name: string, labels: Record<string, string>, by?: number): void
  observe(name: string, labels: Record<string, string>, seconds: number): void
}

export interface LookupOptions {
  /**
   * The run's deadline: when it passes (ms since the epoch), and its signal, aborted then or when the caller goes
   * away. The signal is read only by what can wait (a vendor call), so it may be made on first read.
   */
  readonly deadline: { readonly signal: AbortSignal; readonly at: number }
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

/** A started source, and what every lookup of it would otherwise work out again. */
interface StartedSource {
  readonly def: SourceDefinition
  readonly instance: SourceInstance
  /** The service's own settings for it; a lookup copies them only when a request overrides one. */
  readonly settings: Readonly<Record<string, string | undefined>>
  /** keyPrint of settings.apiKey, worked out once (a SHA-256 per lookup otherwise). */
  readonly keyPrint: string
  /** The settings a request may override, by the param that overrides them. */
  readonly overridable: readonly { readonly key: string; readonly param: string }[]
}

/**
 * One vendor call shared by every run that asks the same thing at the same time. It runs under its own signal,
 * aborted only when every run waiting on it has gone, and with the latest of their deadlines.
 */
interface SharedCall {
  readonly controller: AbortController
  readonly promise: Promise<Finding>
  waiters: number
  deadlineAt: number
}

export class SourceRuntime {
  private readonly inFlight = new Map<string, SharedCall>()
  private readonly started: ReadonlyMap<string, StartedSource>

  private constructor(
    started: ReadonlyMap<string, { def: SourceDefinition; instance: SourceInstance }>,
    config: ServiceConfig,
    private readonly cache: FindingStore,
    private readonly metrics: MetricsSink,
  ) {
    this.started = new Map(
      [...started].map(([id, { def, instance }]) => {
        const settings = Object.freeze({ ...(config.sources[def.id] ?? {}) })
        const overridable = def.settings.flatMap((s) => (s.param === undefined ? [] : [{ key: s.key, param: s.param }]))
        return [id, { def, instance, settings, keyPrint: keyPrint(settings['apiKey']), overridable }]
      }),
    )
  }

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

  /** Each source that calls out: its circuit, queue and quota now. A store that cannot answer is said per source. */
  async upstreams(): Promise<Map<string, UpstreamState | { readonly error: string }>> {
    const rows = await Promise.all(
      [...this.started.values()]
        .filter(({ instance }) => instance.upstream !== undefined)
        .map(async ({ def, instance }) => {
          try {
            return [def.id, await (instance.upstream as () => Promise<UpstreamState>)()] as const
          } catch (err) {
            return [def.id, { error: `its quota cannot be read: ${(err as Error).message.slice(0, 200)}` }] as const
          }
        }),
    )
    return new Map<string, UpstreamState | { readonly error: string }>(rows)
  }

  /** Settings for one request: the request's params override the service's env defaults for that request only. */
  #settingsFor(
    source: StartedSource,
    params: Readonly<Record<string, unknown>>,
  ): Readonly<Record<string, string | undefined>> {
    let merged: Record<string, string | undefined> | undefined
    for (const s of source.overridable) {
      const v = params[s.param]
      if (typeof v === 'string' && v !== '') (merged ??= { ...source.settings })[s.key] = v
    }
    return merged ?? source.settings
  }

  /**
   * Never rejects and never throws: every failure becomes an outcome with its reason. Timed per source and status.
   * A source that answers from memory (`answer`, nothing cached) is asked at once and its outcome is returned as it
   * is; every other lookup returns a promise. A run of embedded sources alone then needs no promise per lookup.
   */
  lookup(id: string, indicator: Indicator, opts: LookupOptions): SourceOutcome | Promise<SourceOutcome> {
    const startedAt = performance.now()
    const entry = this.started.get(id)
    if (!entry)
      return this.#timed({
        source: id,
        status: 'skipped',
        kind: 'not_configured',
        reason: 'not a source of this service',
        elapsedMs: 0,
      })
    const { def, instance } = entry
    if (!def.supports.includes(indicator.type)) {
      return this.#timed({
        source: id,
        status: 'skipped',
        kind: 'unsupported_type',
        reason: `does not support ${indicator.type} indicators (supports ${def.supports.join(', ')})`,
        elapsedMs: 0,
      })
    }
    if (instance.answer !== undefined && (def.cacheTtlMs ?? 0) === 0) {
      try {
        const settings = this.#settingsFor(entry, opts.params)
        const answer = instance.answer(
          indicator,
          new SourceLookupContext(id, opts, settings, runDeadline(opts), entry.keyPrint),
        )
        return this.#timed(answered(id, boundFinding(answer), startedAt))
      } catch (err) {
        return this.#timed(failedOutcome(id, err, startedAt, opts.log))
      }
    }
    return this.#lookupLater(entry, indicator, opts, startedAt).then((outcome) => this.#timed(outcome))
  }

  #timed(outcome: SourceOutcome): SourceOutcome {
    this.metrics.observe(
      SOURCE_CALL_DURATION_SECONDS,
      { source: outcome.source, status: outcome.status },
      outcome.elapsedMs / 1000,
    )
    return outcome
  }

  /** A lookup that waits: on the cache, or on a vendor (shared while in flight, ended by the run's deadline). */
  async #lookupLater(
    entry: StartedSource,
    indicator: Indicator,
    opts: LookupOptions,
    startedAt: number,
  ): Promise<SourceOutcome> {
    const { def, instance } = entry
    const id = def.id
    const settings = this.#settingsFor(entry, opts.params)
    const ttl = def.cacheTtlMs ?? 0
    const print = settings === entry.settings ? entry.keyPrint : keyPrint(settings['apiKey'])
    const ref: FindingRef = { source: id, keyPrint: print, type: indicator.type, value: indicator.value }
    if (ttl > 0 && !opts.forceRefresh) {
      const hit = await this.cache.get(ref, ttl)
      if (hit) {
        this.metrics.inc(CACHE_HITS, { source: id })
        return {
          source: id,
          status: 'ok',
          finding: hit.finding,
          elapsedMs: msSince(startedAt),
          cached: true,
          ageMs: hit.ageMs,
        }
      }
    }
    try {
      const call = (deadline: CallDeadline): Promise<Finding> =>
        instance.lookup(indicator, new SourceLookupContext(id, opts, settings, deadline, print))
      const answer = await this.#shared(
        `${id}\u0000${indicator.type}\u0000${indicator.value}\u0000${print}`,
        call,
        opts.deadline,
      )
      // Bounded before anything keeps it: a bad answer costs only this source its raw answer.
      const finding = boundFinding(answer)
      if (ttl > 0) await this.cache.set(ref, finding, findingBytes(finding), ttl)
      return answered(id, finding, startedAt)
    } catch (err) {
      return failedOutcome(id, err, startedAt, opts.log)
    }
  }

  /**
   * Two lookups of the same thing at the same time share one call. Each run waits on it until its own deadline or
   * its caller leaves; the call itself ends only when it answers or every run waiting on it has gone.
   */
  #shared(
    key: string,
    call: (deadline: CallDeadline) => Promise<Finding>,
    run: LookupOptions['deadline'],
  ): Promise<Finding> {
    const signal = run.signal
    if (signal.aborted) return Promise.reject(deadlineError(signal))
    let shared = this.inFlight.get(key)
    if (shared === undefined) {
      const controller = new AbortController()
      const entry: { -readonly [K in keyof SharedCall]?: SharedCall[K] } = {
        controller,
        waiters: 0,
        deadlineAt: run.at,
      }
      const deadline: CallDeadline = {
        signal: controller.signal,
        get at() {
          return entry.deadlineAt as number
        },
      }
      entry.promise = call(deadline).finally(() => {
        if (this.inFlight.get(key) === shared) this.inFlight.delete(key)
      })
      shared = entry as SharedCall
      this.inFlight.set(key, shared)
    } else shared.deadlineAt = Math.max(shared.deadlineAt, run.at)
    const current = shared
    current.waiters += 1
    return new Promise<Finding>((resolve, reject) => {
      let done = false
      const leave = (): void => {
        if (done) return
        done = true
        signal.removeEventListener('abort', onAbort)
        current.waiters -= 1
      }
      const onAbort = (): void => {
        leave()
        reject(deadlineError(signal))
        // The last run waiting has gone: nobody needs the answer, so the call stops and the next asker starts anew.
        if (current.waiters === 0) {
          if (this.inFlight.get(key) === current) this.inFlight.delete(key)
          current.controller.abort(signal.reason)
        }
      }
      signal.addEventListener('abort', onAbort, { once: true })
      current.promise.then(
        (finding) => {
          leave()
          resolve(finding)
        },
        (err: unknown) => {
          leave()
          reject(err)
        },
      )
    })
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.started.values()].map((s) => s.instance.close?.()))
  }
}

const msSince = (startedAt: number): number => Math.round(performance.now() - startedAt)

const answered = (source: string, finding: Finding, startedAt: number): SourceOutcome => ({
  source,
  status: 'ok',
  finding,
  elapsedMs: msSince(startedAt),
  cached: false,
  ageMs: 0,
})

/** A SourceError says why, in its kind's words; anything else is the source's own bug, logged and reported as such. */
const failedOutcome = (source: string, err: unknown, startedAt: number, log: Logger): SourceOutcome => {
  if (err instanceof SourceError) {
    // A bug the source explained (an 'internal' error carrying what was thrown) is logged like an unexplained one.
    if (err.kind === 'internal' && err.cause !== undefined)
      log.error({ err: err.cause, source }, 'source lookup failed unexpectedly')
    return {
      source,
      status: err.skipped ? 'skipped' : 'failed',
      kind: err.kind,
      reason: `${describeKind(err.kind)} - ${err.message}`,
      elapsedMs: msSince(startedAt),
    }
  }
  log.error({ err, source }, 'source lookup failed unexpectedly')
  return {
    source,
    status: 'failed',
    kind: 'internal',
    reason: 'internal - unexpected error in the source (see the service log)',
    elapsedMs: msSince(startedAt),
  }
}

/** What a lookup runs under: the run's own deadline, or a shared call's (the latest of the runs waiting on it). */
interface CallDeadline {
  readonly signal: AbortSignal
  readonly at: number
}

/** The run's deadline as it is: its signal is still made only when read. */
const runDeadline = (opts: LookupOptions): CallDeadline => opts.deadline

/**
 * What a source sees of the run. Its child logger is made only if the source logs, and the deadline's signal only
 * if the source asks for it: most lookups do neither. Both are getters on the class, so pass the context on rather
 * than spreading it (a spread drops them).
 */
class SourceLookupContext implements LookupContext {
  #log: Logger | undefined
  readonly forceRefresh: boolean

  constructor(
    private readonly id: string,
    private readonly opts: LookupOptions,
    readonly settings: Readonly<Record<string, string | undefined>>,
    private readonly deadline: CallDeadline,
    readonly keyPrint: string,
  ) {
    this.forceRefresh = opts.forceRefresh
  }

  get signal(): AbortSignal {
    return this.deadline.signal
  }

  get deadlineAt(): number {
    return this.deadline.at
  }

  get log(): Logger {
    return (this.#log ??= this.opts.log.child({ source: this.id }))
  }
}

const deadlineError = (signal: AbortSignal): SourceError => {
  const reason: unknown = signal.reason
  return reason instanceof SourceError
    ? reason
    : new SourceError('cancelled', 'the run was cancelled before the source answered')
}
