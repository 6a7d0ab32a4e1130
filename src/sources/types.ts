import type { Logger } from 'pino'
import type { Indicator, IndicatorType } from '../indicators/types.js'
import type { ServiceConfig, SourceSetting } from '../config/env.js'
import type { RateLimit } from '../config/rate-limit.js'
import type { HttpClientFactory } from '../http/types.js'

export const VERDICTS = ['malicious', 'suspicious', 'benign', 'unknown'] as const
export type Verdict = (typeof VERDICTS)[number]

export type FactValue = string | number | boolean | null | readonly string[]

/** One source's normalised answer about one indicator. Pure data: no I/O handles, JSON-serialisable. */
export interface Finding {
  readonly verdict: Verdict
  /** Threat score 0-100 (higher is worse); null when the source gives no score. */
  readonly score: number | null
  /** How sure the source is of its verdict, 0-100; null when it does not say. */
  readonly confidence: number | null
  readonly tags: readonly string[]
  /** One line for the note, e.g. "AS15169 GOOGLE (US)". */
  readonly summary: string
  /** Named facts; those listed in the source's `outputs` become outputs `enrich.<id>.<key>`. */
  readonly facts: Readonly<Record<string, FactValue>>
  /** The source's own answer, kept whole for enrich.results.json. */
  readonly raw: unknown
}

export interface LookupContext {
  /** Aborted when the run's deadline passes or the client goes away (for a shared call: when every run has gone). */
  readonly signal: AbortSignal
  /** When the lookup must be over, ms since the epoch: no wait or call goes past it. */
  readonly deadlineAt: number
  /** The fingerprint of the API key in use (never the key): whose quota a vendor call spends. */
  readonly keyPrint: string
  readonly log: Logger
  readonly forceRefresh: boolean
  /** This request's settings for the source: request params override the service's env defaults. */
  readonly settings: Readonly<Record<string, string | undefined>>
}

type SourceState = 'ready' | 'unavailable' | 'not_configured'

export interface SourceHealth {
  readonly state: SourceState
  readonly detail: string
}

/** A started source: holds its loaded data or clients for the lifetime of one app instance. */
export interface SourceInstance {
  health(): SourceHealth
  /** Resolves with a finding, or rejects with a SourceError saying why the source could not answer. */
  lookup(indicator: Indicator, ctx: LookupContext): Promise<Finding>
  /**
   * The same answer at once, for a source that holds its data in memory (the embedded ones): a finding, or a thrown
   * SourceError. The runtime prefers it, sparing a run a round of promises per lookup.
   */
  answer?(indicator: Indicator, ctx: LookupContext): Finding
  /** A source that calls out: its circuit, its queue and its quota now (the status page). */
  upstream?(): Promise<UpstreamState>
  close?(): Promise<void>
}

export interface UpstreamState {
  readonly circuit: 'closed' | 'open' | 'half_open'
  readonly queued: number
  readonly quota: readonly QuotaKeyUsage[]
}

import type { QuotaKeyUsage } from '../http/types.js'

export type { SourceSetting } from '../config/env.js'
export type { RateLimit } from '../config/rate-limit.js'

/** One fact a source publishes as an output: a handful per source, those a playbook author branches on. */
interface SourceOutput {
  readonly key: string
  readonly type: 'String' | 'StringArray'
  readonly note: string
}

/** Everything about one source, declared in its own file under src/sources/. */
export interface SourceDefinition {
  readonly id: string
  readonly title: string
  /** embedded: works offline with no key; vendor: calls out over the network. */
  readonly kind: 'embedded' | 'vendor'
  readonly description: string
  readonly supports: readonly IndicatorType[]
  /**
   * Facts published as contract outputs `enrich.results.<id>.<key>`, with their type and note: `npm run contract`
   * writes them into app.config.json and layouts/layout.json, and start-up checks the two agree.
   */
  readonly outputs: readonly SourceOutput[]
  readonly settings: readonly SourceSetting[]
  /** Default rate limit (vendor sources): the whole service stays under it. */
  readonly rateLimits?: readonly RateLimit[]
  /** How long a finding stays fresh in the cache (vendor sources), ms. */
  readonly cacheTtlMs?: number
  /** Load data / build clients once per app instance. A thrown error stops start-up with its message. */
  start(config: ServiceConfig, deps: SourceDeps): Promise<SourceInstance>
}

export interface SourceDeps {
  readonly log: Logger
  /** Builds this source's one instrumented HTTP client (vendor sources only). */
  readonly http: HttpClientFactory
}
