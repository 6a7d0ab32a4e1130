/**
 * The one instrumented request client every vendor source (and the platform client) calls out through: one
 * keep-alive exchange (./exchange.ts) per attempt, with the client's own rate limiter, circuit breaker, retry
 * policy, size cap, proxy agents, one log line per call (secrets scrubbed) and per-source metrics. Failures reject
 * with SourceError.
 */
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import type { ServiceConfig } from '../config/env.js'
import { SourceError } from '../errors.js'
import {
  type Metrics,
  PLATFORM_FAILURES_TOTAL,
  PLATFORM_REQUESTS_TOTAL,
  PLATFORM_RETRIES_TOTAL,
  PLATFORM_THROTTLED_WAITS_TOTAL,
  NOTIFIER_FAILURES_TOTAL,
  NOTIFIER_REQUESTS_TOTAL,
  SOURCE_FAILURES_TOTAL,
  SOURCE_REQUESTS_TOTAL,
  SOURCE_RETRIES_TOTAL,
  SOURCE_THROTTLED_WAITS_TOTAL,
} from '../metrics.js'
import { timeLeftMs } from './deadline.js'
import { failureKindOfStatus } from './failure-kind.js'
import { abortableDelay, cancelledError } from './abort.js'
import { CircuitBreaker, type BreakerTicket } from './circuit-breaker.js'
import { exchange, type ExchangeResult } from './exchange.js'
import { createClientAgents, type ClientAgents } from './proxy-agents.js'
import { RateLimiter } from './rate-limiter.js'
import { formatRateLimit, type RateLimit } from '../config/rate-limit.js'
import { localBreakerBus, type BreakerBus } from '../state/breaker-bus.js'
import { keyPrint } from '../state/key-print.js'
import { MemoryQuota, type Quota } from '../state/quota.js'
import { redactUrl, Scrubber, secretValuesOf } from './redact.js'
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  parseRetryAfterMs,
  quotaResetWaitMs,
  RETRYABLE_NETWORK_CODES,
  RETRYABLE_STATUSES,
  type ResponseHeaders,
  type RetryPolicy,
} from './retry-policy.js'
import type { HttpClient, HttpClientFactory, HttpClientSettings, HttpRequest, HttpResponse } from './types.js'
import { vendorErrorSnippet } from './vendor-message.js'

export const DEFAULT_TIMEOUTS = { connectMs: 3_000, responseMs: 10_000, totalMs: 15_000 } as const
export const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024

export interface HttpClientFactoryOptions {
  readonly config: ServiceConfig
  readonly log: Logger
  readonly metrics: Metrics
  /** `<displayName>/<programVersion>` */
  readonly userAgent: string
  /** Jitter source for retry backoff (tests pass a fixed one). */
  readonly random?: () => number
  /** Vendor quotas (every window, keyed by source and key fingerprint); shared through Redis when it is set. */
  readonly quota?: Quota
  /** Tells other replicas when a circuit opens, and hears when theirs do. */
  readonly breakerBus?: BreakerBus
}

export const createHttpClientFactory = (opts: HttpClientFactoryOptions): HttpClientFactory => {
  // One quota for every client of the factory (one app instance), unless the app hands a shared one.
  const withQuota = { ...opts, quota: opts.quota ?? new MemoryQuota() }
  return (settings) => new InstrumentedHttpClient(settings, withQuota)
}

/** What one attempt produced: an HTTP answer of any status, or a failure before/while receiving one. */
type Attempt =
  | { readonly kind: 'answer'; readonly status: number; readonly headers: ResponseHeaders; readonly body: Buffer }
  | { readonly kind: 'failed'; readonly error: SourceError; readonly retryable: boolean }

/** Facts gathered during one call, for its log line and the breaker. */
interface CallStats {
  attempts: number
  rateLimitWaitMs: number
  status: number | undefined
}

/** Failures that say the vendor is down or broken (and so count towards opening the circuit). */
const isVendorFault = (err: SourceError, lastStatus: number | undefined): boolean =>
  err.kind === 'network' ||
  err.kind === 'timeout' ||
  err.kind === 'bad_answer' ||
  err.kind === 'too_large' ||
  (err.kind === 'http_error' && lastStatus !== undefined && lastStatus >= 500)

const positive = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number of ms (got ${v})`)
  return v
}

/**
 * The JSON parser's complaint without the excerpt of the body V8 quotes in it (`Unexpected token 'h', "hdr-KEY-7f"...
 * is not valid JSON`): a body echoing the API key would otherwise leak its first characters past the scrubber.
 */
const parserProblem = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).replace(/,\s*".*"(?:\.\.\.)?\s+is not valid JSON$/s, ' (not valid JSON)')

const secondsText = (ms: number): string => `${Math.max(1, Math.ceil(ms / 1000))} s`

export class InstrumentedHttpClient implements HttpClient {
  readonly #sourceId: string
  readonly #baseUrl: URL
  /** Sent with every call; a request's own headers are laid over them. */
  readonly #headers: Readonly<Record<string, string>>
  readonly #agents: ClientAgents
  readonly #limiter: RateLimiter
  readonly #breaker: CircuitBreaker
  readonly #retry: RetryPolicy
  readonly #timeouts: { readonly connectMs: number; readonly responseMs: number; readonly totalMs: number }
  readonly #maxResponseBytes: number
  readonly #log: Logger
  readonly #metrics: Metrics
  readonly #countAs: 'source' | 'platform' | 'notifier'
  readonly #random: () => number
  readonly #quota: Quota
  readonly #quotaWindows: readonly RateLimit[]
  readonly #quotaKeys = new Map<string, string>()

  constructor(settings: HttpClientSettings, opts: HttpClientFactoryOptions) {
    const id = settings.sourceId
    this.#sourceId = id
    let base: URL
    try {
      base = new URL(settings.baseUrl)
    } catch {
      throw new Error(`${id}: base URL '${settings.baseUrl}' is not a URL`)
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`${id}: base URL '${settings.baseUrl}' is not http(s)`)
    }
    if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`
    this.#baseUrl = base
    this.#timeouts = {
      connectMs: positive(`${id} connect timeout`, settings.timeouts?.connectMs, DEFAULT_TIMEOUTS.connectMs),
      responseMs: positive(`${id} response timeout`, settings.timeouts?.responseMs, DEFAULT_TIMEOUTS.responseMs),
      totalMs: positive(`${id} total timeout`, settings.timeouts?.totalMs, DEFAULT_TIMEOUTS.totalMs),
    }
    this.#retry = {
      limit: Math.max(0, Math.floor(settings.retry?.limit ?? DEFAULT_RETRY_POLICY.limit)),
      baseDelayMs: Math.max(0, settings.retry?.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs),
      maxDelayMs: Math.max(0, settings.retry?.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs),
    }
    this.#maxResponseBytes = positive(`${id} maxResponseBytes`, settings.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES)
    this.#limiter = new RateLimiter({
      sourceId: id,
      ...(settings.rateLimit
        ? { requests: settings.rateLimit.requests, perMs: settings.rateLimit.perMs, maxWaitMs: settings.rateLimit.maxWaitMs }
        : {}),
    })
    const bus = opts.breakerBus ?? localBreakerBus
    this.#breaker = new CircuitBreaker({ ...settings.breaker, onOpen: (ms) => bus.announce(id, ms) })
    bus.listen(id, (ms) => this.#breaker.holdOpen(ms))
    this.#quota = opts.quota ?? new MemoryQuota()
    this.#quotaWindows = settings.quotaWindows ?? (settings.rateLimit ? [settings.rateLimit] : [])
    this.#agents = createClientAgents(opts.config, settings.proxyScope ?? 'external')
    this.#log = opts.log
    this.#metrics = opts.metrics
    this.#countAs = settings.countAs ?? 'source'
    this.#random = opts.random ?? Math.random

    // Certificate checks (tc_verify) live in the agents; redirects to another origin are never followed
    // (./exchange.ts), so the API key headers stay with their own host.
    this.#headers = { 'user-agent': opts.userAgent, accept: 'application/json', 'accept-encoding': 'gzip, deflate, br' }
    if (this.#agents.proxy !== undefined) {
      this.#log.debug({ source: id, proxy: this.#agents.proxy }, 'http client uses a proxy')
    }
  }

  state(): { readonly circuit: 'closed' | 'open' | 'half_open'; readonly queued: number } {
    return { circuit: this.#breaker.state(), queued: this.#limiter.queued }
  }

  close(): void {
    this.#limiter.close()
    this.#agents.http.destroy()
    this.#agents.https.destroy()
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const started = performance.now()
    const secrets = secretValuesOf(req)
    const scrubber = new Scrubber(req.secrets === undefined ? secrets : [...secrets, ...req.secrets])
    const stats: CallStats = { attempts: 0, rateLimitWaitMs: 0, status: undefined }
    const url = this.#urlOf(req)
    let ticket: BreakerTicket | undefined
    try {
      ticket = this.#breaker.admit()
      const response = await this.#call(req, url, this.#quotaKeyOf(secrets), scrubber, stats, started)
      this.#breaker.success(ticket)
      this.#logCall(req, url, scrubber, stats, started, undefined)
      return response
    } catch (err) {
      const failure = this.#asSourceError(err, scrubber)
      if (ticket) {
        if (isVendorFault(failure, stats.status)) this.#breaker.failure(ticket)
        else if (stats.status !== undefined && stats.status < 500) this.#breaker.success(ticket)
        else this.#breaker.abandon(ticket)
      }
      this.#count('failures', failure.kind)
      this.#logCall(req, url, scrubber, stats, started, failure)
      throw failure
    }
  }

  /** Attempts with retries; every attempt takes a rate-limiter token and a call of the vendor's quota. */
  async #call(req: HttpRequest, url: URL, quotaKey: string, scrubber: Scrubber, stats: CallStats, started: number): Promise<HttpResponse> {
    for (let retry = 0; ; retry += 1) {
      // A retry refused by the limiter or the quota was still a call that went out: not a skip.
      const refused = (err: unknown): unknown =>
        retry > 0 && err instanceof SourceError && err.skipped ? new SourceError(err.kind, err.message) : err
      let ticket: string | undefined
      const permit = await this.#limiter.acquire(req.signal).catch((err: unknown) => {
        throw refused(err)
      })
      try {
        ticket = await this.#takeQuota(quotaKey, req.signal, stats, permit.waitedMs)
      } catch (err) {
        permit.release()
        throw refused(err)
      }
      stats.rateLimitWaitMs += permit.waitedMs
      if (permit.waitedMs > 0) this.#count('throttled')
      stats.attempts += 1
      this.#count('requests')
      let attempt: Attempt
      try {
        attempt = await this.#attempt(req, url, scrubber)
      } finally {
        permit.release()
        if (ticket !== undefined) void this.#quota.settle(quotaKey, this.#quotaWindows, ticket).catch(() => undefined)
      }
      const canRetry = retry < this.#retry.limit

      if (attempt.kind === 'failed') {
        if (!attempt.retryable || !canRetry) throw attempt.error
        await this.#waitBeforeRetry(backoffDelayMs(retry + 1, this.#retry, this.#random), req.signal)
        continue
      }

      stats.status = attempt.status
      const quotaWaitMs = quotaResetWaitMs(attempt.headers, Date.now())
      if (quotaWaitMs !== undefined && quotaWaitMs > 0) this.#pause(quotaKey, quotaWaitMs)
      if ((attempt.status >= 200 && attempt.status < 300) || req.answerStatuses?.includes(attempt.status)) {
        return this.#response(attempt, scrubber, stats, started, req.read ?? 'json')
      }
      if (!RETRYABLE_STATUSES.has(attempt.status)) throw this.#statusError(attempt, scrubber, undefined)
      const vendorWaitMs =
        parseRetryAfterMs(attempt.headers['retry-after'], Date.now()) ??
        (attempt.status === 429 ? quotaWaitMs : undefined)
      // A wait longer than the limiter allows, or than the run has left, is not waited: reported at once.
      if (vendorWaitMs !== undefined && (vendorWaitMs > this.#limiter.maxWaitMs || vendorWaitMs > timeLeftMs(req.signal))) {
        throw this.#statusError(attempt, scrubber, vendorWaitMs)
      }
      if (!canRetry) throw this.#statusError(attempt, scrubber, vendorWaitMs)
      if (attempt.status === 429 && vendorWaitMs !== undefined) {
        // A 429 speaks for the whole client: pause the limiter so every caller waits, this retry included
        // (its next token comes after the pause; the wait shows as rateLimitWaitMs).
        this.#pause(quotaKey, vendorWaitMs)
        this.#count('retries')
        continue
      }
      await this.#waitBeforeRetry(vendorWaitMs ?? backoffDelayMs(retry + 1, this.#retry, this.#random), req.signal)
    }
  }

  /** A pause the vendor asked for holds this client's callers and, through the quota, every replica's. */
  #pause(quotaKey: string, ms: number): void {
    this.#limiter.pauseFor(ms)
    void this.#quota.pause(quotaKey, ms).catch(() => undefined)
  }

  /**
   * One call of the vendor's quota (all its windows, across replicas when shared). Waits while the wait fits in
   * what the limiter allows and the run has left; otherwise the call is refused with rate_limited (skipped).
   */
  async #takeQuota(quotaKey: string, signal: AbortSignal | undefined, stats: CallStats, waitedMs: number): Promise<string | undefined> {
    if (this.#quotaWindows.length === 0) return undefined
    let waited = waitedMs
    for (;;) {
      const answer = await this.#quota.take(quotaKey, this.#quotaWindows, this.#timeouts.totalMs)
      if (answer.granted) return answer.ticket
      if (waited + answer.waitMs > this.#limiter.maxWaitMs || answer.waitMs > timeLeftMs(signal)) {
        const limits = this.#quotaWindows.map(formatRateLimit).join(', ')
        throw new SourceError(
          'rate_limited',
          `${this.#sourceId} quota (${limits}) is spent: the next call is free in ${secondsText(answer.waitMs)}, over the wait of ${this.#limiter.maxWaitMs} ms`,
          { skipped: true },
        )
      }
      this.#count('throttled')
      await abortableDelay(answer.waitMs, signal)
      waited += answer.waitMs
      stats.rateLimitWaitMs += answer.waitMs
    }
  }

  async #waitBeforeRetry(ms: number, signal: AbortSignal | undefined): Promise<void> {
    this.#count('retries')
    await abortableDelay(ms, signal)
  }

  /** One HTTP exchange. Rejects only with SourceError('cancelled'); everything else is an Attempt. */
  async #attempt(req: HttpRequest, url: URL, scrubber: Scrubber): Promise<Attempt> {
    const signal = req.signal
    if (signal?.aborted) throw cancelledError(signal)
    const { headers, body } = this.#payloadOf(req)
    const result = await exchange({
      method: req.method,
      url,
      headers,
      body,
      agents: this.#agents,
      timeouts: this.#timeouts,
      maxResponseBytes: this.#maxResponseBytes,
      signal,
    })
    if (result.kind === 'answer') return result
    if (result.kind === 'cancelled') throw cancelledError(signal)
    return { kind: 'failed', error: this.#failureOf(result, scrubber), retryable: result.kind === 'network' && RETRYABLE_NETWORK_CODES.has(result.code) }
  }

  /** The headers and body of a request: JSON, a form or a raw body, over the client's own headers. */
  #payloadOf(req: HttpRequest): { headers: Readonly<Record<string, string>>; body: string | undefined } {
    let body: string | undefined
    let type: string | undefined
    if (req.json !== undefined) {
      body = JSON.stringify(req.json)
      type = 'application/json'
    } else if (req.form !== undefined) {
      body = new URLSearchParams(req.form).toString()
      type = 'application/x-www-form-urlencoded'
    } else body = req.body
    if (body === undefined && req.headers === undefined) return { headers: this.#headers, body }
    const headers: Record<string, string> = { ...this.#headers }
    if (type !== undefined) headers['content-type'] = type
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body))
    // Names are case-insensitive: a caller's 'Accept' replaces the client's 'accept' rather than joining it.
    for (const [name, value] of Object.entries(req.headers ?? {})) headers[name.toLowerCase()] = value
    return { headers, body }
  }

  #failureOf(result: Exclude<ExchangeResult, { kind: 'answer' | 'cancelled' }>, scrubber: Scrubber): SourceError {
    switch (result.kind) {
      case 'too_large':
        return new SourceError('too_large', `answer from ${this.#sourceId} is over the limit of ${this.#maxResponseBytes} bytes`)
      case 'timeout': {
        const ms = result.phase === 'connect' ? this.#timeouts.connectMs : result.phase === 'response' ? this.#timeouts.responseMs : this.#timeouts.totalMs
        return new SourceError('timeout', `${result.phase === 'connect' ? 'no connection' : 'no answer'} within ${ms} ms`)
      }
      case 'network':
        return new SourceError('network', `connection to ${this.#sourceId} failed: ${result.code} (${scrubber.scrub(result.message)})`)
    }
  }

  #response(
    answer: Extract<Attempt, { kind: 'answer' }>,
    scrubber: Scrubber,
    stats: CallStats,
    started: number,
    read: 'json' | 'text',
  ): HttpResponse {
    let body: unknown
    if (read === 'text') body = scrubber.scrub(answer.body.toString('utf8'))
    else if (answer.body.length > 0) {
      try {
        // Scrubbed before parsing: a vendor that echoes the key must not carry it into findings (raw) or replies.
        body = JSON.parse(scrubber.scrub(answer.body.toString('utf8')).replace(/^\uFEFF/, '')) as unknown
      } catch (err) {
        // A non-2xx answer status (e.g. a 404 page from a reverse proxy) still answers; its body is just unknown.
        if (answer.status >= 200 && answer.status < 300) {
          throw new SourceError('bad_answer', `malformed JSON from ${this.#sourceId}: ${scrubber.scrub(parserProblem(err))}`)
        }
      }
    }
    return {
      status: answer.status,
      headers: answer.headers,
      body,
      elapsedMs: Math.round(performance.now() - started),
      attempts: stats.attempts,
    }
  }

  /** One count for this client's calls: a source's counters, labelled by its id, or the platform's. */
  #count(what: 'requests' | 'retries' | 'throttled' | 'failures', kind?: string): void {
    if (this.#countAs === 'notifier') {
      if (what === 'requests') this.#metrics.inc(NOTIFIER_REQUESTS_TOTAL, { notifier: this.#sourceId })
      if (what === 'failures') this.#metrics.inc(NOTIFIER_FAILURES_TOTAL, { notifier: this.#sourceId, kind: kind ?? 'unknown' })
      return
    }
    if (this.#countAs === 'platform') {
      const name = { requests: PLATFORM_REQUESTS_TOTAL, retries: PLATFORM_RETRIES_TOTAL, throttled: PLATFORM_THROTTLED_WAITS_TOTAL, failures: PLATFORM_FAILURES_TOTAL }[what]
      this.#metrics.inc(name, kind === undefined ? {} : { kind })
      return
    }
    const name = { requests: SOURCE_REQUESTS_TOTAL, retries: SOURCE_RETRIES_TOTAL, throttled: SOURCE_THROTTLED_WAITS_TOTAL, failures: SOURCE_FAILURES_TOTAL }[what]
    this.#metrics.inc(name, kind === undefined ? { source: this.#sourceId } : { source: this.#sourceId, kind })
  }

  #statusError(answer: Extract<Attempt, { kind: 'answer' }>, scrubber: Scrubber, retryAfterMs: number | undefined): SourceError {
    const { status } = answer
    const kind = failureKindOfStatus(status)
    const retryAfter = retryAfterMs !== undefined ? `; retry after ${secondsText(retryAfterMs)}` : ''
    if (kind === 'auth') return new SourceError(kind, `${this.#sourceId} rejected the API key (HTTP ${status})`)
    const snippet = vendorErrorSnippet(answer.body)
    const said = snippet === undefined ? '' : `: ${scrubber.scrub(snippet)}`
    if (kind === 'rate_limited') return new SourceError(kind, `${this.#sourceId} is rate limiting (HTTP 429)${said}${retryAfter}`)
    return new SourceError(kind, `${this.#sourceId} answered HTTP ${status}${said}${retryAfter}`)
  }

  #asSourceError(err: unknown, scrubber: Scrubber): SourceError {
    if (err instanceof SourceError) {
      const message = scrubber.scrub(err.message)
      return message === err.message ? err : new SourceError(err.kind, message, { skipped: err.skipped })
    }
    const message = err instanceof Error ? err.message : String(err)
    return new SourceError('internal', `${this.#sourceId} client error: ${scrubber.scrub(message)}`)
  }

  /** Quotas are the API key's: keyed by its fingerprint, never by the key (worked out once per key). */
  #quotaKeyOf(secrets: readonly string[]): string {
    const joined = secrets.join('\n')
    let key = this.#quotaKeys.get(joined)
    if (key === undefined) {
      // A handful of keys in practice; the bound only keeps a caller rotating keys from growing it.
      if (this.#quotaKeys.size >= 64) this.#quotaKeys.clear()
      key = `${this.#sourceId}:${keyPrint(joined)}`
      this.#quotaKeys.set(joined, key)
    }
    return key
  }

  /**
   * The path always resolves under the base URL: './' keeps a first segment that looks like a scheme (an IPv6
   * address such as 'fe80::1', or 'http:') from being read as an absolute URL, which would choose another host and
   * hand it the API key. Resolved as a relative path ('..' included), it can never leave the base's origin.
   */
  #urlOf(req: HttpRequest): URL {
    const url = new URL(`./${req.path.replace(/^\/+/, '')}`, this.#baseUrl)
    for (const [name, value] of Object.entries(req.searchParams ?? {})) url.searchParams.set(name, String(value))
    return url
  }

  /** One line per call, after it ends. Every value here is scrubbed of the request's secrets. */
  #logCall(req: HttpRequest, url: URL, scrubber: Scrubber, stats: CallStats, started: number, failure: SourceError | undefined): void {
    // Skipped and cancelled calls and answers log at info: nothing to build when that level is off.
    if ((failure === undefined || failure.skipped || failure.kind === 'cancelled') && !this.#log.isLevelEnabled('info')) return
    const line = {
      source: this.#sourceId,
      method: req.method,
      url: scrubber.scrub(redactUrl(url)),
      status: stats.status,
      elapsedMs: Math.round(performance.now() - started),
      attempt: stats.attempts,
      rateLimitWaitMs: stats.rateLimitWaitMs,
    }
    if (failure === undefined) {
      this.#log.info(line, 'source call')
    } else if (failure.skipped || failure.kind === 'cancelled') {
      // Not the vendor's fault: no warning for every call while a circuit is open or a run is cut short.
      const what = failure.skipped ? 'source call skipped' : 'source call cancelled'
      this.#log.info({ ...line, kind: failure.kind, skipped: failure.skipped, reason: failure.message }, what)
    } else {
      this.#log.warn({ ...line, kind: failure.kind, reason: failure.message }, 'source call failed')
    }
  }
}
