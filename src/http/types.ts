/**
 * The one instrumented request client every upstream calls out through.
 * Implementation: src/http/client.ts over src/http/transport.ts (got). Failures reject with SourceError
 * (src/errors.ts).
 */
export interface HttpClientSettings {
  /** Source id, used in logs and metrics labels. */
  readonly sourceId: string
  readonly baseUrl: string
  /** A sliding window: `requests` per `perMs` for each quota key. Calls queue up to maxWaitMs, then are skipped. */
  readonly rateLimit?: { readonly requests: number; readonly perMs: number; readonly maxWaitMs?: number }
  /** Every window the vendor counts (e.g. 4 a minute and 500 a day), kept through the quota; default: rateLimit's. */
  readonly quotaWindows?: readonly { readonly requests: number; readonly perMs: number }[]
  readonly timeouts?: { readonly connectMs?: number; readonly responseMs?: number; readonly totalMs?: number }
  /** Retries on network errors and 408/429/500/502/503/504, exponential backoff with jitter. */
  readonly retry?: { readonly limit?: number; readonly baseDelayMs?: number; readonly maxDelayMs?: number }
  readonly breaker?: { readonly failureThreshold?: number; readonly coolDownMs?: number }
  readonly maxResponseBytes?: number
  /** Which proxy flag applies: vendor calls use tc_proxy_external, platform calls tc_proxy_tc. */
  readonly proxyScope?: 'external' | 'tc'
  /**
   * Whose counters the calls go to: a source's (labelled by sourceId), the ThreatConnect platform's, or an alert
   * notifier's.
   */
  readonly countAs?: 'source' | 'platform' | 'notifier'
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Path relative to baseUrl (leading slash optional), already percent-encoded where needed. */
  readonly path: string
  readonly searchParams?: Readonly<Record<string, string | number | boolean>>
  /** Per-request headers, e.g. the API key header. Values of headers named like key/auth/token are redacted in logs. */
  readonly headers?: Readonly<Record<string, string>>
  readonly json?: unknown
  readonly form?: Readonly<Record<string, string>>
  /** A raw body (say what it is in a content-type header), e.g. a v2 Batch upload. */
  readonly body?: string
  /**
   * How the answer's body is read: parsed JSON (default), the text as it came, or `stream`: the body (of a 2xx or an
   * answer status) as a Readable of its decoded bytes, the cap enforced as it is read (a feed download). The caller
   * reads it; a connection cut short fails that stream, never ends it early.
   */
  readonly read?: 'json' | 'text' | 'stream'
  /** Statuses that are answers rather than failures (e.g. VirusTotal's 404 "not found"). 2xx always are. */
  readonly answerStatuses?: readonly number[]
  readonly signal?: AbortSignal
  /** When the run ends (ms since the epoch): no wait or attempt goes past it, and a longer wait is refused at once. */
  readonly deadlineAt?: number
  /**
   * Whose quota the call spends within the upstream: an API key's fingerprint, a platform profile. Quotas and
   * pauses (a 429) hold per key; calls without one share the upstream's.
   */
  readonly quotaKey?: string
  /** More values to keep out of logs and errors: a webhook's path, where the URL itself is the credential. */
  readonly secrets?: readonly string[]
}

export interface HttpResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** Parsed JSON body; undefined for an empty body. */
  readonly body: unknown
  readonly elapsedMs: number
  readonly attempts: number
}

export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>
  /** Current breaker/limiter state for /health. */
  state(): { readonly circuit: 'closed' | 'open' | 'half_open'; readonly queued: number }
  /**
   * For the status page: the quota keys named (the service's own key's fingerprint) and those called lately, each
   * with how much of every window it holds (the fleet's, through Redis) and how long a 429 still pauses it.
   */
  usage?(keys?: readonly string[]): Promise<readonly QuotaKeyUsage[]>
  close(): void
}

export interface QuotaKeyUsage {
  /** The fingerprint of the key (`nokey`: calls without one); `default`: calls that named no quota key. */
  readonly key: string
  readonly windows: readonly { readonly requests: number; readonly perMs: number; readonly used: number }[]
  readonly pausedMs: number
}

export type HttpClientFactory = (settings: HttpClientSettings) => HttpClient
