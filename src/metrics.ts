/**
 * The service's metrics on prom-client, one Registry per app instance (no module-level registry), so tests and
 * several apps in one process never share counts. Counters for each source's calls and for the ThreatConnect
 * platform's (counted as the platform, not as a source), latency histograms for /run, source calls and write-back,
 * and, for a running service, Node's process and event-loop metrics.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export const SOURCE_REQUESTS_TOTAL = 'enrich_source_requests_total'
export const SOURCE_FAILURES_TOTAL = 'enrich_source_failures_total'
export const SOURCE_RETRIES_TOTAL = 'enrich_source_retries_total'
export const SOURCE_THROTTLED_WAITS_TOTAL = 'enrich_source_throttled_waits_total'
export const SOURCE_CACHE_HITS_TOTAL = 'enrich_source_cache_hits_total'
export const PLATFORM_REQUESTS_TOTAL = 'enrich_platform_requests_total'
export const PLATFORM_FAILURES_TOTAL = 'enrich_platform_failures_total'
export const PLATFORM_RETRIES_TOTAL = 'enrich_platform_retries_total'
export const PLATFORM_THROTTLED_WAITS_TOTAL = 'enrich_platform_throttled_waits_total'

export const SHARED_STORE_ERRORS_TOTAL = 'enrich_shared_store_errors_total'

export const NOTIFIER_REQUESTS_TOTAL = 'alerts_notifier_requests_total'
export const NOTIFIER_FAILURES_TOTAL = 'alerts_notifier_failures_total'
export const ALERTS_RAISED_TOTAL = 'alerts_raised_total'
export const ALERTS_DELIVERIES_TOTAL = 'alerts_deliveries_total'
export const ALERTS_ERRORS_TOTAL = 'alerts_errors_total'
export const ALERTS_SILENCED_TOTAL = 'alerts_silenced_total'

export const RUN_DURATION_SECONDS = 'enrich_run_duration_seconds'
export const SOURCE_CALL_DURATION_SECONDS = 'enrich_source_call_duration_seconds'
export const WRITEBACK_DURATION_SECONDS = 'enrich_writeback_duration_seconds'

/** Content-Type for a /metrics answer carrying `render()`. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export type MetricLabels = Readonly<Record<string, string>>

export interface MetricDefinition {
  readonly name: string
  readonly help: string
  /** Label names every series of this metric carries (checked on each use, so a typo fails loudly in tests). */
  readonly labels: readonly string[]
  /** A histogram of seconds (with these buckets) instead of a counter. */
  readonly buckets?: readonly number[]
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const

/** Every metric a service instance has. */
export const SERVICE_METRICS: readonly MetricDefinition[] = [
  {
    name: SOURCE_REQUESTS_TOTAL,
    help: 'HTTP requests sent to a source, retries included (what the vendor counts against the quota).',
    labels: ['source'],
  },
  {
    name: SOURCE_FAILURES_TOTAL,
    help: 'Source calls that ended without an answer, by failure kind (skips included).',
    labels: ['source', 'kind'],
  },
  { name: SOURCE_RETRIES_TOTAL, help: 'Retried requests to a source.', labels: ['source'] },
  {
    name: SOURCE_THROTTLED_WAITS_TOTAL,
    help: "Requests that had to wait for the source's rate limiter before going out.",
    labels: ['source'],
  },
  { name: SOURCE_CACHE_HITS_TOTAL, help: 'Lookups answered from the finding cache.', labels: ['source'] },
  { name: PLATFORM_REQUESTS_TOTAL, help: 'HTTP requests sent to the ThreatConnect API, retries included.', labels: [] },
  {
    name: PLATFORM_FAILURES_TOTAL,
    help: 'ThreatConnect API calls that ended without an answer, by failure kind.',
    labels: ['kind'],
  },
  { name: PLATFORM_RETRIES_TOTAL, help: 'Retried requests to the ThreatConnect API.', labels: [] },
  {
    name: PLATFORM_THROTTLED_WAITS_TOTAL,
    help: 'ThreatConnect API requests that waited for its rate limiter.',
    labels: [],
  },
  {
    name: SHARED_STORE_ERRORS_TOTAL,
    help: 'Commands to the shared store (Redis) that failed or timed out, by operation; the service then used its in-process fallback.',
    labels: ['operation'],
  },
  {
    name: NOTIFIER_REQUESTS_TOTAL,
    help: 'HTTP requests sent by an alert notifier (slack, slack_webhook, webhook).',
    labels: ['notifier'],
  },
  {
    name: NOTIFIER_FAILURES_TOTAL,
    help: "Alert notifiers' HTTP calls that ended without an answer, by failure kind.",
    labels: ['notifier', 'kind'],
  },
  {
    name: ALERTS_RAISED_TOTAL,
    help: 'Outbox entries added (one alert for one destination), by service; repeats of a dedup key are not counted.',
    labels: ['service'],
  },
  {
    name: ALERTS_DELIVERIES_TOTAL,
    help: 'Messages a notifier tried to deliver, by notifier and outcome (sent, retry, dead).',
    labels: ['notifier', 'outcome'],
  },
  {
    name: ALERTS_SILENCED_TOTAL,
    help: 'Outbox entries a silence held back (recorded as silenced, not sent), by service.',
    labels: ['service'],
  },
  {
    name: ALERTS_ERRORS_TOTAL,
    help: 'Alert service failures that are not a delivery (an outbox write, a watchlist poll), by operation.',
    labels: ['operation'],
  },
  {
    name: RUN_DURATION_SECONDS,
    help: 'Time to answer POST /run, by outcome (ok, failed, no_results).',
    labels: ['outcome'],
    buckets: LATENCY_BUCKETS,
  },
  {
    name: SOURCE_CALL_DURATION_SECONDS,
    help: 'Time of one source lookup within a run (cache hits included), by source and status.',
    labels: ['source', 'status'],
    buckets: LATENCY_BUCKETS,
  },
  {
    name: WRITEBACK_DURATION_SECONDS,
    help: 'Time of the write-back of one run.',
    labels: [],
    buckets: LATENCY_BUCKETS,
  },
]

/** Label values: backslash, double quote and newline are escaped (exposition format rules). */
export const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/

type Metric = { def: MetricDefinition; metric: Counter<string> | Histogram<string> }

export interface MetricsOptions {
  /** Node's process and event-loop metrics (a running service); off for the small instances tests make. */
  readonly processMetrics?: boolean
}

export class Metrics {
  readonly registry = new Registry()
  readonly #metrics = new Map<string, Metric>()

  constructor(definitions: readonly MetricDefinition[] = SERVICE_METRICS, options: MetricsOptions = {}) {
    for (const def of definitions) this.define(def)
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry })
  }

  /** Declares a metric; declaring the same name again with the same labels is a no-op. */
  define(def: MetricDefinition): void {
    if (!NAME_RE.test(def.name)) throw new Error(`invalid metric name '${def.name}'`)
    for (const label of def.labels)
      if (!LABEL_RE.test(label)) throw new Error(`invalid label name '${label}' on metric ${def.name}`)
    const existing = this.#metrics.get(def.name)
    if (existing) {
      if (existing.def.labels.join(',') !== def.labels.join(',')) {
        throw new Error(`metric ${def.name} already defined with labels [${existing.def.labels.join(', ')}]`)
      }
      return
    }
    const common = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [this.registry] }
    const metric =
      def.buckets === undefined ? new Counter(common) : new Histogram({ ...common, buckets: [...def.buckets] })
    this.#metrics.set(def.name, { def, metric })
  }

  inc(name: string, labels: MetricLabels = {}, by = 1): void {
    const { metric } = this.#checked(name, labels, 'counter')
    if (!Number.isFinite(by) || by < 0) throw new Error(`counter ${name} can only go up (got ${by})`)
    ;(metric as Counter<string>).inc(labels, by)
  }

  /** Records one duration, in seconds, into a histogram. */
  observe(name: string, labels: MetricLabels, seconds: number): void {
    const { metric } = this.#checked(name, labels, 'histogram')
    ;(metric as Histogram<string>).observe(labels, seconds)
  }

  /** Current value of one counter series (0 when never incremented). */
  async get(name: string, labels: MetricLabels = {}): Promise<number> {
    const { metric } = this.#checked(name, labels, 'counter')
    const { values } = await (metric as Counter<string>).get()
    const wanted = Object.entries(labels)
    return (
      values.find(
        (v) => wanted.every(([k, value]) => v.labels[k] === value) && Object.keys(v.labels).length === wanted.length,
      )?.value ?? 0
    )
  }

  /** Prometheus text exposition format (version 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics()
  }

  #checked(name: string, labels: MetricLabels, kind: 'counter' | 'histogram'): Metric {
    const found = this.#metrics.get(name)
    if (!found) throw new Error(`unknown metric ${name}: define it first`)
    if ((found.def.buckets === undefined) !== (kind === 'counter')) throw new Error(`metric ${name} is not a ${kind}`)
    for (const label of Object.keys(labels)) {
      if (!found.def.labels.includes(label))
        throw new Error(`metric ${name} has no label '${label}' (labels: ${found.def.labels.join(', ')})`)
    }
    for (const label of found.def.labels)
      if (labels[label] === undefined) throw new Error(`metric ${name} needs label '${label}'`)
    return found
  }
}
