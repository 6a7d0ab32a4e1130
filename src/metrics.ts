/**
 * Counters with labels, rendered in the Prometheus text exposition format. One Metrics object per app
 * instance (no module-level registry), so tests and several apps in one process never share counts.
 */

export const SOURCE_REQUESTS_TOTAL = 'enrich_source_requests_total'
export const SOURCE_FAILURES_TOTAL = 'enrich_source_failures_total'
export const SOURCE_RETRIES_TOTAL = 'enrich_source_retries_total'
export const SOURCE_THROTTLED_WAITS_TOTAL = 'enrich_source_throttled_waits_total'
export const SOURCE_CACHE_HITS_TOTAL = 'enrich_source_cache_hits_total'

/** Content-Type for a /metrics answer carrying `render()`. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export type MetricLabels = Readonly<Record<string, string>>

export interface MetricDefinition {
  readonly name: string
  readonly help: string
  /** Label names every series of this metric carries (checked on inc, so a typo fails loudly in tests). */
  readonly labels: readonly string[]
}

/** The per-source counters the HTTP client and the cache layer increment. */
export const SOURCE_METRICS: readonly MetricDefinition[] = [
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
]

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Label values: backslash, double quote and newline are escaped (exposition format rules). */
export const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

/** HELP text: backslash and newline are escaped. */
const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')

interface Counter {
  readonly def: MetricDefinition
  /** Keyed by the rendered label set, so equal label sets share a series whatever the key order. */
  readonly series: Map<string, number>
}

const renderLabels = (def: MetricDefinition, labels: MetricLabels): string =>
  def.labels.length === 0
    ? ''
    : `{${def.labels.map((name) => `${name}="${escapeLabelValue(labels[name] ?? '')}"`).join(',')}}`

export class Metrics {
  readonly #counters = new Map<string, Counter>()

  constructor(definitions: readonly MetricDefinition[] = SOURCE_METRICS) {
    for (const def of definitions) this.define(def)
  }

  /** Declares a counter; declaring the same name again with the same labels is a no-op. */
  define(def: MetricDefinition): void {
    if (!NAME_RE.test(def.name)) throw new Error(`invalid metric name '${def.name}'`)
    for (const label of def.labels) {
      if (!LABEL_RE.test(label)) throw new Error(`invalid label name '${label}' on metric ${def.name}`)
    }
    const existing = this.#counters.get(def.name)
    if (existing) {
      if (existing.def.labels.join(',') !== def.labels.join(',')) {
        throw new Error(`metric ${def.name} already defined with labels [${existing.def.labels.join(', ')}]`)
      }
      return
    }
    this.#counters.set(def.name, { def: { ...def, labels: [...def.labels] }, series: new Map() })
  }

  inc(name: string, labels: MetricLabels = {}, by = 1): void {
    const counter = this.#counter(name, labels)
    if (!Number.isFinite(by) || by < 0) throw new Error(`counter ${name} can only go up (got ${by})`)
    const key = renderLabels(counter.def, labels)
    counter.series.set(key, (counter.series.get(key) ?? 0) + by)
  }

  /** Current value of one series (0 when never incremented). */
  get(name: string, labels: MetricLabels = {}): number {
    const counter = this.#counter(name, labels)
    return counter.series.get(renderLabels(counter.def, labels)) ?? 0
  }

  /** Prometheus text exposition format (version 0.0.4). */
  render(): string {
    const lines: string[] = []
    for (const { def, series } of this.#counters.values()) {
      lines.push(`# HELP ${def.name} ${escapeHelp(def.help)}`, `# TYPE ${def.name} counter`)
      for (const [labels, value] of series) lines.push(`${def.name}${labels} ${value}`)
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`
  }

  #counter(name: string, labels: MetricLabels): Counter {
    const counter = this.#counters.get(name)
    if (!counter) throw new Error(`unknown metric ${name}: define it first`)
    for (const label of Object.keys(labels)) {
      if (!counter.def.labels.includes(label)) {
        throw new Error(`metric ${name} has no label '${label}' (labels: ${counter.def.labels.join(', ')})`)
      }
    }
    for (const label of counter.def.labels) {
      if (labels[label] === undefined) throw new Error(`metric ${name} needs label '${label}'`)
    }
    return counter
  }
}
