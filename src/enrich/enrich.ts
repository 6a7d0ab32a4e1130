/** Indicators -> results: every selected source asked (through the runtime), findings assessed, note rendered. */
import type { Indicator } from '../indicators/types.js'
import { mapConcurrent } from '../util/map-concurrent.js'
import { findingsDigest, renderNote, type NoteMeta } from './note.js'
import type { LookupOptions, SourceRuntime } from './source-runtime.js'
import type { IndicatorResult, SourceOutcome } from './types.js'
import { assess } from './verdict.js'

/** LookupOptions are handed to every lookup as they are: a lazily made deadline signal stays unmade unless read. */
export interface EnrichOptions extends LookupOptions {
  readonly sources: readonly string[]
  readonly concurrency: number
  readonly meta: Omit<NoteMeta, 'at'>
  readonly now: () => Date
}

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => value instanceof Promise

const resultOf = (indicator: Indicator, outcomes: SourceOutcome[], opts: EnrichOptions): IndicatorResult => {
  const assessment = assess(outcomes)
  const digest = findingsDigest(indicator, assessment, outcomes)
  const note = renderNote(indicator, assessment, outcomes, digest, { ...opts.meta, at: opts.now() })
  return { indicator, outcomes, assessment, note, digest }
}

/** Every selected source asked at once. When all of them answered from memory the result is there without waiting. */
const enrichIndicator = (
  indicator: Indicator,
  runtime: SourceRuntime,
  opts: EnrichOptions,
): IndicatorResult | Promise<IndicatorResult> => {
  const outcomes = opts.sources.map((id) => runtime.lookup(id, indicator, opts))
  if (outcomes.some(isPromise)) return Promise.all(outcomes).then((done) => resultOf(indicator, done, opts))
  return resultOf(indicator, outcomes as SourceOutcome[], opts)
}

export const enrichAll = (
  indicators: readonly Indicator[],
  runtime: SourceRuntime,
  opts: EnrichOptions,
): Promise<IndicatorResult[]> =>
  mapConcurrent(indicators, opts.concurrency, async (indicator) => enrichIndicator(indicator, runtime, opts))
