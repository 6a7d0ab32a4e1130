/** What every vendor source declares the same way: its key, base URL and rate-limit settings, and its client. */
import { SourceError } from '../errors.js'
import { keyPrint } from '../state/key-print.js'
import type { ServiceConfig } from '../config/env.js'
import type { HttpClient, HttpClientSettings, HttpRequest, HttpResponse } from '../http/types.js'
import { formatRateLimits, parseRateLimits, shortestWindow, type RateLimit } from '../config/rate-limit.js'
import type { Indicator } from '../indicators/types.js'
import type { Finding, LookupContext, SourceDefinition, SourceDeps, SourceHealth, SourceSetting } from './types.js'

const envPrefix = (id: string): string => id.toUpperCase().replace(/[^A-Z0-9]/g, '_')

const apiKeySetting = (id: string, title: string): SourceSetting => ({
  key: 'apiKey',
  env: `${envPrefix(id)}_API_KEY`,
  param: `${id}_api_key`,
  description: `${title} API key (the request param \`${id}_api_key\` overrides it).`,
  secret: true,
})

const baseUrlSetting = (id: string, defaultUrl: string): SourceSetting => ({
  key: 'baseUrl',
  env: `${envPrefix(id)}_BASE_URL`,
  description: 'Base URL of the API (point it at a mirror, a proxy or a local fake).',
  default: defaultUrl,
})

const rateLimitSetting = (id: string, limits: readonly RateLimit[]): SourceSetting => ({
  key: 'rateLimit',
  env: `${envPrefix(id)}_RATE_LIMIT`,
  description:
    'Calls allowed per window for the whole service (every replica together when REDIS_URL is set), one or more windows, e.g. `4/1m, 500/1d`, `20/1s`; calls over it queue up to the wait limit, then the source is skipped.',
  default: formatRateLimits(limits),
})

/** The request's API key (param over env); a source with no key is skipped, saying how to set one. */
const requireApiKey = (id: string, ctx: LookupContext): string => {
  const key = ctx.settings['apiKey']
  if (key === undefined || key === '') {
    throw new SourceError('not_configured', `no API key: set ${envPrefix(id)}_API_KEY or the ${id}_api_key param`, {
      skipped: true,
    })
  }
  return key
}

/** Builds the source's one instrumented client from its resolved settings. Throws naming a bad setting. */
const vendorHttpClient = (
  id: string,
  config: ServiceConfig,
  deps: SourceDeps,
  extra: Omit<HttpClientSettings, 'sourceId' | 'baseUrl' | 'rateLimit'> = {},
): HttpClient => {
  const own = config.sources[id] ?? {}
  const baseUrl = own['baseUrl']
  if (baseUrl === undefined || !/^https?:\/\//.test(baseUrl)) {
    throw new Error(`${envPrefix(id)}_BASE_URL: '${baseUrl ?? ''}' is not an http(s) URL`)
  }
  let windows: RateLimit[] = []
  if (own['rateLimit'] !== undefined) {
    try {
      windows = parseRateLimits(own['rateLimit'])
    } catch (err) {
      throw new Error(`${envPrefix(id)}_RATE_LIMIT: ${(err as Error).message}`)
    }
  }
  const rateLimit = shortestWindow(windows)
  return deps.http({ sourceId: id, baseUrl, ...(rateLimit ? { rateLimit, quotaWindows: windows } : {}), ...extra })
}

/** The settings every vendor declares: its key (unless it needs none), its base URL and its rate limit. */
export const vendorSettings = (
  id: string,
  title: string,
  defaultBaseUrl: string,
  limits: readonly RateLimit[],
  withKey = true,
): SourceSetting[] => [
  ...(withKey ? [apiKeySetting(id, title)] : []),
  baseUrlSetting(id, defaultBaseUrl),
  rateLimitSetting(id, limits),
]

/**
 * The same health for every vendor: unavailable while its circuit is open; otherwise ready, or not_configured when
 * a required key is not set for the service (a request may still pass one as `<id>_api_key`).
 */
const vendorHealth =
  (
    id: string,
    config: ServiceConfig,
    client: HttpClient,
    key: 'required' | 'optional' | 'none',
    hint = '',
  ): (() => SourceHealth) =>
  () => {
    if (client.state().circuit === 'open')
      return { state: 'unavailable', detail: 'circuit open after repeated failures' }
    if (key === 'none') return { state: 'ready', detail: 'no key needed' }
    const envKey = config.sources[id]?.['apiKey']
    if (envKey !== undefined && envKey !== '') return { state: 'ready', detail: 'API key set' }
    const missing = `no ${envPrefix(id)}_API_KEY`
    return key === 'required'
      ? {
          state: 'not_configured',
          detail: `${missing}; a request can still pass ${id}_api_key${hint ? ` (${hint})` : ''}`,
        }
      : { state: 'ready', detail: `${missing}: ${hint}` }
  }

export type VendorKey = 'required' | 'optional' | 'none'

/** What one vendor source says about itself; defineVendorSource makes the rest the same for every vendor. */
export interface VendorSourceSpec<K extends VendorKey> extends Pick<
  SourceDefinition,
  'id' | 'title' | 'description' | 'supports' | 'outputs'
> {
  readonly baseUrl: string
  /** Every window the vendor counts (its free plan's), e.g. 4 a minute and 500 a day. */
  readonly rateLimits: readonly RateLimit[]
  readonly cacheTtlMs: number
  /**
   * required: without one the source is skipped, saying how to set it; optional: asked without one; none: no key at
   * all.
   */
  readonly key: K
  /** Said in /health when the service has no key (how to get one, or what happens without it). */
  readonly keyHint?: string
  /**
   * One lookup through the source's own client, bound to the run: every call carries the run's signal and deadline
   * and spends the quota of the key in use, so no source can forget them. `apiKey` is the request's key, else the
   * service's.
   */
  lookup(
    client: RunClient,
    indicator: Indicator,
    ctx: LookupContext & { readonly apiKey: K extends 'required' ? string : string | undefined },
  ): Promise<Finding>
}

/** A source's client within one lookup: what the run decides (signal, deadline, quota key) is filled in. */
interface RunClient {
  request(req: Omit<HttpRequest, 'signal' | 'deadlineAt' | 'quotaKey'>): Promise<HttpResponse>
}

const bindToRun = (client: HttpClient, ctx: LookupContext): RunClient => ({
  request: (req) => client.request({ ...req, signal: ctx.signal, deadlineAt: ctx.deadlineAt, quotaKey: ctx.keyPrint }),
})

/**
 * The run's context plus the key the call uses. It reads through to the run's context rather than copying it: the
 * runtime makes the deadline signal and the child logger only when read, and a spread would read (or, for getters
 * on a class, silently drop) them.
 */
class KeyedLookupContext<Key> implements LookupContext {
  constructor(
    private readonly base: LookupContext,
    readonly apiKey: Key,
  ) {}

  get signal(): AbortSignal {
    return this.base.signal
  }

  get deadlineAt(): number {
    return this.base.deadlineAt
  }

  get keyPrint(): string {
    return this.base.keyPrint
  }

  get log(): LookupContext['log'] {
    return this.base.log
  }

  get forceRefresh(): boolean {
    return this.base.forceRefresh
  }

  get settings(): LookupContext['settings'] {
    return this.base.settings
  }
}

/** A vendor source from its spec: its settings, its one instrumented client, its health, and the key handling. */
export const defineVendorSource = <K extends VendorKey>(spec: VendorSourceSpec<K>): SourceDefinition => ({
  id: spec.id,
  title: spec.title,
  kind: 'vendor',
  description: spec.description,
  supports: spec.supports,
  settings: vendorSettings(spec.id, spec.title, spec.baseUrl, spec.rateLimits, spec.key !== 'none'),
  rateLimits: spec.rateLimits,
  cacheTtlMs: spec.cacheTtlMs,
  outputs: spec.outputs,
  async start(config, deps) {
    const client = vendorHttpClient(spec.id, config, deps)
    return {
      health: vendorHealth(spec.id, config, client, spec.key, spec.keyHint),
      // async: a missing key rejects, as every lookup failure does; it never throws at the caller.
      lookup: async (indicator, ctx) => {
        const given = ctx.settings['apiKey']
        const apiKey =
          spec.key === 'required'
            ? requireApiKey(spec.id, ctx)
            : given === undefined || given === ''
              ? undefined
              : given
        // A required key is there by now (requireApiKey skipped the source otherwise): the type says so for K.
        return spec.lookup(
          bindToRun(client, ctx),
          indicator,
          new KeyedLookupContext(ctx, apiKey as K extends 'required' ? string : string | undefined),
        )
      },
      // The service's own key is always shown (another replica may be spending it); keys requests brought, once seen.
      upstream: async () => ({
        ...client.state(),
        quota: (await client.usage?.([keyPrint(config.sources[spec.id]?.['apiKey'])])) ?? [],
      }),
      close: async () => client.close(),
    }
  },
})
