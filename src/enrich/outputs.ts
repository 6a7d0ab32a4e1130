/**
 * Results -> the reply's outputs. Pure. Only declared outputs ever appear, each with its declared type, nested by
 * the dots of its name (src/contract/outputs.ts). For an array of indicators every output is an array aligned with
 * the input: a String output's values, or a StringArray output's lists joined by the list delimiter.
 */
import { setOutput, type NestedOutputs, type OutputIndex } from '../contract/outputs.js'
import type { WritebackResult } from '../platform/writeback.js'
import type { FactValue } from '../sources/types.js'
import type { IndicatorResult } from './types.js'

export type Outputs = NestedOutputs

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
  /** Sources whose raw answer is a declared output (enrich.response.<id>.json); only those are serialised. */
  responses: ReadonlySet<string> = new Set(),
): PerIndicator => {
  const a = r.assessment
  const values: PerIndicator = new Map<string, string | readonly string[] | null>([
    ['enrich.results.indicator', r.indicator.value],
    ['enrich.results.indicator_type', r.indicator.type],
    ['enrich.results.verdict', a.verdict],
    ['enrich.results.score', String(a.score)],
    ['enrich.results.threat_rating', String(a.threatRating)],
    ['enrich.results.confidence', String(a.confidence)],
    ['enrich.results.tags', a.tags],
    ['enrich.results.sources.ok', r.outcomes.filter((o) => o.status === 'ok').map((o) => o.source)],
    ['enrich.results.sources.failed', r.outcomes.flatMap((o) => (o.status === 'failed' ? [`${o.source}: ${o.reason}`] : []))],
    ['enrich.results.sources.skipped', r.outcomes.flatMap((o) => (o.status === 'skipped' ? [`${o.source}: ${o.reason}`] : []))],
    ['enrich.results.note', r.note],
    ['enrich.results.json', JSON.stringify(resultsDocument(r))],
  ])
  if (writeback) {
    values.set('enrich.results.writeback.status', writeback.status)
    values.set('enrich.results.writeback.reason', writeback.reason)
    values.set('enrich.results.writeback.indicator_id', writeback.indicatorId === null ? null : String(writeback.indicatorId))
    values.set('enrich.results.writeback.note_id', writeback.noteId === null ? null : String(writeback.noteId))
  }
  for (const o of r.outcomes) {
    if (o.status !== 'ok') continue
    for (const key of sourceOutputs.get(o.source) ?? []) values.set(`enrich.results.${o.source}.${key}`, factToOutput(o.finding.facts[key]))
    if (responses.has(o.source) && o.finding.raw !== null && o.finding.raw !== undefined) values.set(`enrich.response.${o.source}.json`, JSON.stringify(o.finding.raw))
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
  const perIndicator = results.map((r, i) => indicatorOutputs(r, sourceOutputs, writebacks[i], index.responseSources))
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
      if (declared.shape === 'scalar' && typeof v === 'string') setOutput(outputs, declared.path, v)
      else if (declared.shape === 'list' && Array.isArray(v)) setOutput(outputs, declared.path, v)
      continue
    }
    setOutput(outputs, declared.path, values.map((v) => (v === null ? null : typeof v === 'string' ? v : v.join(index.listDelimiter))))
  }
  return outputs
}
