/**
 * Results -> the reply's outputs. Pure. Only declared outputs ever appear, each with a declared type
 * (src/contract/outputs.ts explains scalar vs list outputs and how arrays of indicators align).
 */
import type { OutputIndex } from '../contract/outputs.js'
import type { WritebackResult } from '../platform/writeback.js'
import type { FactValue } from '../sources/types.js'
import type { IndicatorResult } from './types.js'

export type OutputValue = string | readonly (string | null)[]
export type Outputs = Record<string, OutputValue>

type PerIndicator = Map<string, string | readonly string[] | null>

const factToOutput = (value: FactValue | undefined): string | readonly string[] | null => {
  if (value === undefined || value === null) return null
  if (Array.isArray(value)) return value
  return String(value)
}

/** Every output of one indicator, by name, before shaping for one-or-many. */
export const indicatorOutputs = (
  r: IndicatorResult,
  sourceOutputs: ReadonlyMap<string, readonly string[]>,
  writeback?: WritebackResult,
): PerIndicator => {
  const a = r.assessment
  const values: PerIndicator = new Map<string, string | readonly string[] | null>([
    ['enrich.indicator', r.indicator.value],
    ['enrich.indicator_type', r.indicator.type],
    ['enrich.verdict', a.verdict],
    ['enrich.score', String(a.score)],
    ['enrich.threat_rating', String(a.threatRating)],
    ['enrich.confidence', String(a.confidence)],
    ['enrich.tags', a.tags],
    ['enrich.sources.ok', r.outcomes.filter((o) => o.status === 'ok').map((o) => o.source)],
    ['enrich.sources.failed', r.outcomes.flatMap((o) => (o.status === 'failed' ? [`${o.source}: ${o.reason}`] : []))],
    ['enrich.sources.skipped', r.outcomes.flatMap((o) => (o.status === 'skipped' ? [`${o.source}: ${o.reason}`] : []))],
    ['enrich.note', r.note],
    ['enrich.results.json', JSON.stringify(resultsDocument(r))],
  ])
  if (writeback) {
    values.set('enrich.writeback.status', writeback.status)
    values.set('enrich.writeback.reason', writeback.reason)
    values.set('enrich.indicator.id', writeback.indicatorId === null ? null : String(writeback.indicatorId))
    values.set('enrich.note.id', writeback.noteId === null ? null : String(writeback.noteId))
  }
  for (const o of r.outcomes) {
    if (o.status !== 'ok') continue
    for (const key of sourceOutputs.get(o.source) ?? []) values.set(`enrich.${o.source}.${key}`, factToOutput(o.finding.facts[key]))
  }
  return values
}

/** Everything about one indicator, nothing dropped: the input as sent, each source's status and full finding. */
export const resultsDocument = (r: IndicatorResult) => ({
  indicator: r.indicator,
  ...r.assessment,
  digest: r.digest,
  sources: r.outcomes,
})

export const buildOutputs = (
  results: readonly IndicatorResult[],
  batch: boolean,
  index: OutputIndex,
  sourceOutputs: ReadonlyMap<string, readonly string[]>,
  writebacks: readonly WritebackResult[] = [],
): Outputs => {
  const perIndicator = results.map((r, i) => indicatorOutputs(r, sourceOutputs, writebacks[i]))
  // Only names some indicator has a value for: walking every declared output showed in profiles.
  const names = new Set<string>()
  for (const m of perIndicator) for (const name of m.keys()) names.add(name)
  const outputs: Outputs = {}
  for (const name of names) {
    const declared = index.byName.get(name)
    if (declared === undefined) continue
    const values = perIndicator.map((m) => m.get(name) ?? null)
    if (values.every((v) => v === null)) continue
    if (!batch) {
      const v = values[0]
      if (declared.shape === 'scalar' && typeof v === 'string') outputs[declared.name] = v
      else if (declared.shape === 'list' && Array.isArray(v)) outputs[declared.name] = v
      continue
    }
    outputs[declared.name] = values.map((v) => (v === null ? null : typeof v === 'string' ? v : v.join(index.listDelimiter)))
  }
  return outputs
}
