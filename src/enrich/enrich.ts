/** Indicators -> results: every selected source asked (through the runtime), findings assessed, note rendered. */
import type { Logger } from 'pino'
import type { Indicator } from '../indicators/types.js'
import { mapConcurrent } from '../util/map-concurrent.js'
import { findingsDigest, renderNote, type NoteMeta } from './note.js'
import type { SourceRuntime } from './source-runtime.js'
import type { IndicatorResult } from './types.js'
import { assess } from './verdict.js'

export interface EnrichOptions {
  readonly sources: readonly string[]
  readonly forceRefresh: boolean
  readonly params: Readonly<Record<string, unknown>>
  readonly concurrency: number
  readonly signal: AbortSignal
  readonly log: Logger
  readonly meta: Omit<NoteMeta, 'at'>
  readonly now: () => Date
}

export const enrichIndicator = async (indicator: Indicator, runtime: SourceRuntime, opts: EnrichOptions): Promise<IndicatorResult> => {
  const outcomes = await Promise.all(
    opts.sources.map((id) =>
      runtime.lookup(id, indicator, { signal: opts.signal, forceRefresh: opts.forceRefresh, params: opts.params, log: opts.log }),
    ),
  )
  const assessment = assess(outcomes)
  const digest = findingsDigest(indicator, assessment, outcomes)
  const note = renderNote(indicator, assessment, outcomes, digest, { ...opts.meta, at: opts.now() })
  return { indicator, outcomes, assessment, note, digest }
}

export const enrichAll = (indicators: readonly Indicator[], runtime: SourceRuntime, opts: EnrichOptions): Promise<IndicatorResult[]> =>
  mapConcurrent(indicators, opts.concurrency, (indicator) => enrichIndicator(indicator, runtime, opts))
