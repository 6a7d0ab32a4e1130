/**
 * The last hour of this instance's runs, for the status page: per minute, how many runs and indicators, the
 * indicators by verdict, and the runs' latency; per source, the latency of its recent lookups. Kept in memory with a
 * fixed bound (60 minutes, at most 512 latencies a minute, 256 per source), so a busy instance costs the same as an
 * idle one. Times are wall-clock ms from an injectable clock.
 */
import type { Verdict } from '../sources/types.js'
import type { SourceOutcome } from './types.js'

const MINUTE_MS = 60_000
const MINUTES = 60
const RUN_SAMPLES_PER_MINUTE = 512
const SOURCE_SAMPLES = 256

interface MinuteBucket {
  readonly minute: number
  runs: number
  failedRuns: number
  indicators: number
  readonly byVerdict: Partial<Record<Verdict, number>>
  readonly latenciesMs: number[]
}

interface SourceSample {
  readonly at: number
  readonly status: SourceOutcome['status']
  /** Undefined for a skip or a cached answer: no call was made. */
  readonly ms: number | undefined
}

interface SourceTally {
  readonly samples: SourceSample[]
  next: number
}

/** The value below which `p` of the sorted values fall (nearest rank); undefined with none. */
export const percentile = (sorted: readonly number[], p: number): number | undefined =>
  sorted.length === 0 ? undefined : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]

const round = (ms: number | undefined): number | null => (ms === undefined ? null : Math.round(ms * 10) / 10)

/** What a span of runs (a minute, or the hour) says. */
export interface RunFigures {
  readonly runs: number
  readonly failedRuns: number
  readonly indicators: number
  readonly byVerdict: Partial<Record<Verdict, number>>
  readonly p50Ms: number | null
  readonly p95Ms: number | null
}

/** The figures of these minutes together (none: all zero). */
const figuresOf = (buckets: readonly MinuteBucket[]): RunFigures => {
  const byVerdict: Partial<Record<Verdict, number>> = {}
  for (const b of buckets)
    for (const [v, n] of Object.entries(b.byVerdict)) byVerdict[v as Verdict] = (byVerdict[v as Verdict] ?? 0) + n
  const sorted = buckets.flatMap((b) => b.latenciesMs).sort((x, y) => x - y)
  return {
    runs: buckets.reduce((n, b) => n + b.runs, 0),
    failedRuns: buckets.reduce((n, b) => n + b.failedRuns, 0),
    indicators: buckets.reduce((n, b) => n + b.indicators, 0),
    byVerdict,
    p50Ms: round(percentile(sorted, 0.5)),
    p95Ms: round(percentile(sorted, 0.95)),
  }
}

export interface SourceLatency {
  readonly lookups: number
  readonly ok: number
  readonly failed: number
  readonly skipped: number
  readonly p50Ms: number | null
  readonly p95Ms: number | null
}

export class RunHistory {
  readonly #now: () => number
  readonly #minutes: MinuteBucket[] = []
  readonly #sources = new Map<string, SourceTally>()

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  #bucket(at: number): MinuteBucket {
    const minute = Math.floor(at / MINUTE_MS)
    const last = this.#minutes[this.#minutes.length - 1]
    if (last !== undefined && last.minute === minute) return last
    const bucket: MinuteBucket = {
      minute,
      runs: 0,
      failedRuns: 0,
      indicators: 0,
      byVerdict: {},
      latenciesMs: [],
    }
    this.#minutes.push(bucket)
    while (this.#minutes.length > 0 && (this.#minutes[0] as MinuteBucket).minute <= minute - MINUTES)
      this.#minutes.shift()
    return bucket
  }

  /** One /run answered: its indicators' verdicts, whether it failed, how long it took. */
  recordRun(verdicts: readonly Verdict[], failed: boolean, elapsedMs: number): void {
    const bucket = this.#bucket(this.#now())
    bucket.runs += 1
    if (failed) bucket.failedRuns += 1
    bucket.indicators += verdicts.length
    for (const v of verdicts) bucket.byVerdict[v] = (bucket.byVerdict[v] ?? 0) + 1
    if (bucket.latenciesMs.length < RUN_SAMPLES_PER_MINUTE) bucket.latenciesMs.push(elapsedMs)
  }

  /** One source's outcome for one indicator (a cached answer and a skip count, but carry no latency). */
  recordSource(outcome: SourceOutcome): void {
    let tally = this.#sources.get(outcome.source)
    if (tally === undefined) this.#sources.set(outcome.source, (tally = { samples: [], next: 0 }))
    const called = outcome.status === 'failed' || (outcome.status === 'ok' && !outcome.cached)
    const sample = { at: this.#now(), status: outcome.status, ms: called ? outcome.elapsedMs : undefined }
    if (tally.samples.length < SOURCE_SAMPLES) tally.samples.push(sample)
    else tally.samples[tally.next] = sample
    tally.next = (tally.next + 1) % SOURCE_SAMPLES
  }

  /** The last hour, one entry per minute (oldest first, empty minutes included). */
  minutes(): ({ readonly at: string } & RunFigures)[] {
    const current = Math.floor(this.#now() / MINUTE_MS)
    const byMinute = new Map(this.#minutes.map((b) => [b.minute, b]))
    const out: ({ readonly at: string } & RunFigures)[] = []
    for (let m = current - MINUTES + 1; m <= current; m++) {
      const b = byMinute.get(m)
      out.push({ at: new Date(m * MINUTE_MS).toISOString(), ...figuresOf(b === undefined ? [] : [b]) })
    }
    return out
  }

  /** The hour's runs together: counts by verdict and latency over every run kept. */
  hour(): RunFigures {
    const cutoff = Math.floor(this.#now() / MINUTE_MS) - MINUTES
    return figuresOf(this.#minutes.filter((b) => b.minute > cutoff))
  }

  /** A source's recent lookups (the last 256 within the hour) by outcome, and the latency of those that called. */
  source(id: string): SourceLatency {
    const cutoff = this.#now() - MINUTES * MINUTE_MS
    const recent = (this.#sources.get(id)?.samples ?? []).filter((s) => s.at > cutoff)
    const count = (status: SourceOutcome['status']): number => recent.filter((s) => s.status === status).length
    const sorted = recent.flatMap((s) => (s.ms === undefined ? [] : [s.ms])).sort((x, y) => x - y)
    return {
      lookups: recent.length,
      ok: count('ok'),
      failed: count('failed'),
      skipped: count('skipped'),
      p50Ms: round(percentile(sorted, 0.5)),
      p95Ms: round(percentile(sorted, 0.95)),
    }
  }
}
