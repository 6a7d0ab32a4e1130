/**
 * The one instrumented request client every upstream (vendor sources, the platform, notifiers, feeds) calls out
 * through: one got instance per client (./transport.ts) over keep-alive or proxy agents, with the quota gate (one
 * FIFO queue per quota key over every window the upstream counts), a circuit breaker, the retry policy, the size
 * cap, one log line per call (secrets scrubbed) and the caller's metrics. Failures reject with SourceError.
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
import { failureKindOfStatus } from './failure-kind.js'
import { abortableDelay, cancelledError } from './abort.js'
import { CircuitBreaker, type BreakerTicket } from './circuit-breaker.js'
import type { Readable } from 'node:stream'
import { createTransport, type Transport, type TransportOpened, type TransportResult } from './transport.js'
import { createClientAgents, type ClientAgents } from './proxy-agents.js'
import { QuotaGate, type Pass } from './quota-gate.js'
import { localBreakerBus, type BreakerBus } from '../state/breaker-bus.js'
import { MemoryQuota, type Quota } from '../state/quota.js'
import type { Clock } from '../util/clock.js'
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
import type {
  HttpClient,
  HttpClientFactory,
  HttpClientSettings,
  HttpRequest,
  HttpResponse,
  QuotaKeyUsage,
} from './types.js'
import { vendorErrorSnippet } from './vendor-message.js'

/** How usage() names the quota of calls made without a quota key (the platform's own, say). */
const DEFAULT_KEY = 'default'

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
  /** Time for the quota gate's waits (tests drive their own). */
  readonly clock?: Clock
}

export const createHttpClientFactory = (opts: HttpClientFactoryOptions): HttpClientFactory => {
  // One quota for every client of the factory (one app instance), unless the app hands a shared one.
  const withQuota = { ...opts, quota: opts.quota ?? new MemoryQuota(opts.clock) }
  return (settings) => new InstrumentedHttpClient(settings, withQuota)
}

/** What one attempt produced: an HTTP answer of any status, or a failure before/while receiving one. */
type Attempt =
  | {
      readonly kind: 'answer'
      readonly status: number
      readonly headers: ResponseHeaders
      readonly body: Buffer
      /** `read: 'stream'`: the body, unread (a 2xx or an answer status); `body` is then empty. */
      readonly stream?: Readable
    }
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
  (err instanceof Error ? err.message : String(err)).replace(
    /,\s*".*"(?:\.\.\.)?\s+is not valid JSON$/s,
    ' (not valid JSON)',
  )

const secondsText = (ms: number): string => `${Math.max(1, Math.ceil(ms / 1000))} s`

const timeLeftMs = (deadlineAt: number | undefined): number =>
  deadlineAt === undefined ? Infinity : deadlineAt - Date.now()

class InstrumentedHttpClient implements HttpClient {
  readonly #sourceId: string
  readonly #baseUrl: URL
  readonly #agents: ClientAgents
  readonly #transport: Transport
  readonly #gate: QuotaGate
  readonly #breaker: CircuitBreaker
  readonly #retry: RetryPolicy
  readonly #timeouts: { readonly connectMs: number; readonly responseMs: number; readonly totalMs: number }
  readonly #maxResponseBytes: number
  readonly #log: Logger
  readonly #metrics: Metrics
  readonly #countAs: 'source' | 'platform' | 'notifier'
  readonly #random: () => number

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
    this.#gate = new QuotaGate({
      upstream: id,
      quota: opts.quota ?? new MemoryQuota(opts.clock),
      windows: settings.quotaWindows ?? (settings.rateLimit ? [settings.rateLimit] : []),
      ...(settings.rateLimit?.maxWaitMs !== undefined ? { maxWaitMs: settings.rateLimit.maxWaitMs } : {}),
      maxCallMs: this.#timeouts.totalMs,
      ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
    })
    const bus = opts.breakerBus ?? localBreakerBus
    this.#breaker = new CircuitBreaker({ ...settings.breaker, onOpen: (ms) => bus.announce(id, ms) })
    bus.listen(id, (ms) => this.#breaker.holdOpen(ms))
    this.#agents = createClientAgents(opts.config, settings.proxyScope ?? 'external')
    this.#log = opts.log
    this.#metrics = opts.metrics
    this.#countAs = settings.countAs ?? 'source'
    this.#random = opts.random ?? Math.random

    // Redirects to another origin are never followed (./transport.ts): the API key headers stay with their host.
    this.#transport = createTransport({
      agents: this.#agents,
      timeouts: this.#timeouts,
      maxResponseBytes: this.#maxResponseBytes,
      rejectUnauthorized: opts.config.tcVerify,
      headers: { 'user-agent': opts.userAgent, accept: 'application/json' },
    })
    if (this.#agents.proxy !== undefined) {
      this.#log.debug({ source: id, proxy: this.#agents.proxy }, 'http client uses a proxy')
    }
  }

  state(): { readonly circuit: 'closed' | 'open' | 'half_open'; readonly queued: number } {
    return { circuit: this.#breaker.state(), queued: this.#gate.queued }
  }

  async usage(keys: readonly string[] = []): Promise<readonly QuotaKeyUsage[]> {
    const prefix = `${this.#sourceId}:`
    const labels = new Set(keys)
    for (const key of this.#gate.seenKeys) labels.add(key.startsWith(prefix) ? key.slice(prefix.length) : DEFAULT_KEY)
    const rows = await Promise.all(
      [...labels].map(async (label) => ({
        key: label,
        ...(await this.#gate.usageOf(label === DEFAULT_KEY ? this.#sourceId : prefix + label)),
      })),
    )
    // An upstream that counts no window has nothing to show but a pause.
    return rows.filter((r) => r.windows.length > 0 || r.pausedMs > 0)
  }

  close(): void {
    this.#gate.close()
    this.#agents.http.destroy()
    this.#agents.https.destroy()
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const started = performance.now()
    const secrets = secretValuesOf(req)
    const scrubber = new Scrubber(req.secrets === undefined ? secrets : [...secrets, ...req.secrets])
    // The quota is the API key's or the profile's, named by the caller: never derived from a per-call signature.
    const quotaKey = req.quotaKey === undefined ? this.#sourceId : `${this.#sourceId}:${req.quotaKey}`
    const stats: CallStats = { attempts: 0, rateLimitWaitMs: 0, status: undefined }
    const url = this.#urlOf(req)
    let ticket: BreakerTicket | undefined
    try {
      ticket = this.#breaker.admit()
      const response = await this.#call(req, url, quotaKey, scrubber, stats, started)
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

  /** Attempts with retries; every attempt takes its turn and one call of the quota under the call's key. */
  async #call(
    req: HttpRequest,
    url: URL,
    quotaKey: string,
    scrubber: Scrubber,
    stats: CallStats,
    started: number,
  ): Promise<HttpResponse> {
    for (let retry = 0; ; retry += 1) {
      let pass: Pass
      try {
        pass = await this.#gate.acquire(quotaKey, req.signal, req.deadlineAt)
      } catch (err) {
        // A retry refused by the quota was still a call that went out: not a skip.
        throw retry > 0 && err instanceof SourceError && err.skipped ? new SourceError(err.kind, err.message) : err
      }
      stats.rateLimitWaitMs += pass.waitedMs
      if (pass.waitedMs > 0) this.#count('throttled')
      stats.attempts += 1
      this.#count('requests')
      let attempt: Attempt
      try {
        attempt = await this.#attempt(req, url, scrubber)
      } finally {
        this.#gate.settle(pass)
      }
      const canRetry = retry < this.#retry.limit

      if (attempt.kind === 'failed') {
        if (!attempt.retryable || !canRetry) throw attempt.error
        await this.#waitBeforeRetry(backoffDelayMs(retry + 1, this.#retry, this.#random), req.signal)
        continue
      }

      stats.status = attempt.status
      const quotaWaitMs = quotaResetWaitMs(attempt.headers, Date.now())
      if (quotaWaitMs !== undefined && quotaWaitMs > 0) await this.#gate.pause(quotaKey, quotaWaitMs)
      if ((attempt.status >= 200 && attempt.status < 300) || req.answerStatuses?.includes(attempt.status)) {
        return this.#response(attempt, scrubber, stats, started, req.read ?? 'json')
      }
      if (!RETRYABLE_STATUSES.has(attempt.status)) throw this.#statusError(attempt, scrubber, undefined)
      const vendorWaitMs =
        parseRetryAfterMs(attempt.headers['retry-after'], Date.now()) ??
        (attempt.status === 429 ? quotaWaitMs : undefined)
      // A 429 speaks for the key, whether or not this call waits: every caller of the same key holds back for the
      // time asked (here and on every replica); another key of the same upstream goes on.
      const paused = attempt.status === 429 && vendorWaitMs !== undefined
      if (paused) await this.#gate.pause(quotaKey, vendorWaitMs)
      // A wait longer than the gate allows, or than the run has left, is not waited: reported at once.
      if (
        vendorWaitMs !== undefined &&
        (vendorWaitMs > this.#gate.maxWaitMs || vendorWaitMs > timeLeftMs(req.deadlineAt))
      ) {
        throw this.#statusError(attempt, scrubber, vendorWaitMs)
      }
      if (!canRetry) throw this.#statusError(attempt, scrubber, vendorWaitMs)
      if (paused) {
        // The retry's next turn comes after the pause (it shows as rateLimitWaitMs).
        this.#count('retries')
        continue
      }
      await this.#waitBeforeRetry(vendorWaitMs ?? backoffDelayMs(retry + 1, this.#retry, this.#random), req.signal)
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
    const call = { method: req.method, url, headers, body, deadlineAt: req.deadlineAt, signal }
    const result =
      req.read === 'stream'
        ? await this.#opened(await this.#transport.open(call), req)
        : await this.#transport.send(call)
    if (result.kind === 'answer') return result
    if (result.kind === 'cancelled') throw cancelledError(signal)
    return {
      kind: 'failed',
      error: this.#failureOf(result, scrubber),
      retryable: result.kind === 'network' && RETRYABLE_NETWORK_CODES.has(result.code),
    }
  }

  /**
   * A streamed answer: a 2xx or an answer status is handed on unread; any other status is read whole (bounded by
   * the cap) so it is reported, retried or refused like a buffered one.
   */
  async #opened(
    opened: TransportOpened,
    req: HttpRequest,
  ): Promise<TransportResult | Extract<Attempt, { kind: 'answer' }>> {
    if (opened.kind !== 'stream') return opened
    const { status, headers, body } = opened
    if ((status >= 200 && status < 300) || req.answerStatuses?.includes(status)) {
      return { kind: 'answer', status, headers, body: Buffer.alloc(0), stream: body }
    }
    const chunks: Buffer[] = []
    try {
      for await (const chunk of body) chunks.push(chunk as Buffer)
    } catch (err) {
      return {
        kind: 'network',
        code: (err as { code?: string }).code ?? 'ERR_NETWORK',
        message: (err as Error).message,
      }
    }
    return { kind: 'answer', status, headers, body: Buffer.concat(chunks) }
  }

  /** The headers and body of a request: JSON, a form or a raw body (got lays them over the client's own). */
  #payloadOf(req: HttpRequest): { headers: Readonly<Record<string, string>> | undefined; body: string | undefined } {
    let body: string | undefined
    let type: string | undefined
    if (req.json !== undefined) {
      body = JSON.stringify(req.json)
      type = 'application/json'
    } else if (req.form !== undefined) {
      body = new URLSearchParams(req.form).toString()
      type = 'application/x-www-form-urlencoded'
    } else body = req.body
    if (type === undefined) return { headers: req.headers, body }
    return { headers: { 'content-type': type, ...req.headers }, body }
  }

  #failureOf(result: Exclude<TransportResult, { kind: 'answer' | 'cancelled' }>, scrubber: Scrubber): SourceError {
    switch (result.kind) {
      case 'too_large':
        return new SourceError(
          'too_large',
          `answer from ${this.#sourceId} is over the limit of ${this.#maxResponseBytes} bytes`,
        )
      case 'timeout': {
        const ms =
          result.phase === 'connect'
            ? this.#timeouts.connectMs
            : result.phase === 'response'
              ? this.#timeouts.responseMs
              : this.#timeouts.totalMs
        return new SourceError(
          'timeout',
          `${result.phase === 'connect' ? 'no connection' : 'no answer'} within ${ms} ms`,
        )
      }
      case 'network':
        return new SourceError(
          'network',
          `connection to ${this.#sourceId} failed: ${result.code} (${scrubber.scrub(result.message)})`,
        )
    }
  }

  #response(
    answer: Extract<Attempt, { kind: 'answer' }>,
    scrubber: Scrubber,
    stats: CallStats,
    started: number,
    read: 'json' | 'text' | 'stream',
  ): HttpResponse {
    let body: unknown
    if (answer.stream !== undefined) body = answer.stream
    else if (read === 'text') body = scrubber.scrub(answer.body.toString('utf8'))
    else if (answer.body.length > 0) {
      try {
        // Scrubbed before parsing: a vendor that echoes the key must not carry it into findings (raw) or replies.
        body = JSON.parse(scrubber.scrub(answer.body.toString('utf8')).replace(/^\uFEFF/, '')) as unknown
      } catch (err) {
        // A non-2xx answer status (e.g. a 404 page from a reverse proxy) still answers; its body is just unknown.
        if (answer.status >= 200 && answer.status < 300) {
          throw new SourceError(
            'bad_answer',
            `malformed JSON from ${this.#sourceId}: ${scrubber.scrub(parserProblem(err))}`,
          )
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
      if (what === 'failures')
        this.#metrics.inc(NOTIFIER_FAILURES_TOTAL, { notifier: this.#sourceId, kind: kind ?? 'unknown' })
      return
    }
    if (this.#countAs === 'platform') {
      const name = {
        requests: PLATFORM_REQUESTS_TOTAL,
        retries: PLATFORM_RETRIES_TOTAL,
        throttled: PLATFORM_THROTTLED_WAITS_TOTAL,
        failures: PLATFORM_FAILURES_TOTAL,
      }[what]
      this.#metrics.inc(name, kind === undefined ? {} : { kind })
      return
    }
    const name = {
      requests: SOURCE_REQUESTS_TOTAL,
      retries: SOURCE_RETRIES_TOTAL,
      throttled: SOURCE_THROTTLED_WAITS_TOTAL,
      failures: SOURCE_FAILURES_TOTAL,
    }[what]
    this.#metrics.inc(name, kind === undefined ? { source: this.#sourceId } : { source: this.#sourceId, kind })
  }

  #statusError(
    answer: Extract<Attempt, { kind: 'answer' }>,
    scrubber: Scrubber,
    retryAfterMs: number | undefined,
  ): SourceError {
    const { status } = answer
    const kind = failureKindOfStatus(status)
    const retryAfter = retryAfterMs !== undefined ? `; retry after ${secondsText(retryAfterMs)}` : ''
    if (kind === 'auth') return new SourceError(kind, `${this.#sourceId} rejected the API key (HTTP ${status})`)
    const snippet = vendorErrorSnippet(answer.body)
    const said = snippet === undefined ? '' : `: ${scrubber.scrub(snippet)}`
    if (kind === 'rate_limited')
      return new SourceError(kind, `${this.#sourceId} is rate limiting (HTTP 429)${said}${retryAfter}`)
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
  #logCall(
    req: HttpRequest,
    url: URL,
    scrubber: Scrubber,
    stats: CallStats,
    started: number,
    failure: SourceError | undefined,
  ): void {
    // Skipped and cancelled calls and answers log at info: nothing to build when that level is off.
    if ((failure === undefined || failure.skipped || failure.kind === 'cancelled') && !this.#log.isLevelEnabled('info'))
      return
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
