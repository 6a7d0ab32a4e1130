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

type OutputValue = string | readonly string[] | null

/** Receives each output of one indicator, by name, in reply order. */
type Emit = (name: string, value: OutputValue) => void

const factToOutput = (value: FactValue | undefined): OutputValue => {
  if (value === undefined || value === null) return null
  if (Array.isArray(value)) return value
  return String(value)
}

/**
 * Every output of one indicator, handed to `emit` one by one (no intermediate map: this runs once per indicator per
 * run, and the map showed in profiles). `responses`: sources whose raw answer is a declared output
 * (enrich.response.<id>.json); only those are serialised.
 */
const emitIndicatorOutputs = (
  r: IndicatorResult,
  sourceOutputs: ReadonlyMap<string, readonly string[]>,
  writeback: WritebackResult | undefined,
  responses: ReadonlySet<string>,
  wants: (name: string) => boolean,
  emit: Emit,
): void => {
  const a = r.assessment
  const ok: string[] = []
  const failed: string[] = []
  const skipped: string[] = []
  for (const o of r.outcomes) {
    if (o.status === 'ok') ok.push(o.source)
    else (o.status === 'failed' ? failed : skipped).push(`${o.source}: ${o.reason}`)
  }
  emit('enrich.results.indicator', r.indicator.value)
  emit('enrich.results.indicator_type', r.indicator.type)
  emit('enrich.results.verdict', a.verdict)
  emit('enrich.results.score', String(a.score))
  emit('enrich.results.threat_rating', String(a.threatRating))
  emit('enrich.results.confidence', String(a.confidence))
  emit('enrich.results.tags', a.tags)
  emit('enrich.results.sources.ok', ok)
  emit('enrich.results.sources.failed', failed)
  emit('enrich.results.sources.skipped', skipped)
  emit('enrich.results.note', r.note)
  // The whole document is serialised only for a reply that carries it.
  if (wants('enrich.results.json')) emit('enrich.results.json', JSON.stringify(resultsDocument(r)))
  if (writeback) {
    emit('enrich.results.writeback.status', writeback.status)
    emit('enrich.results.writeback.reason', writeback.reason)
    emit('enrich.results.writeback.indicator_id', writeback.indicatorId === null ? null : String(writeback.indicatorId))
    emit('enrich.results.writeback.note_id', writeback.noteId === null ? null : String(writeback.noteId))
  }
  for (const o of r.outcomes) {
    if (o.status !== 'ok') continue
    const facts = o.finding.facts
    for (const key of sourceOutputs.get(o.source) ?? [])
      emit(`enrich.results.${o.source}.${key}`, factToOutput(facts[key]))
    if (responses.has(o.source) && o.finding.raw !== null && o.finding.raw !== undefined)
      emit(`enrich.response.${o.source}.json`, JSON.stringify(o.finding.raw))
  }
}

/** Everything about one indicator, nothing dropped: the input as sent, each source's status and full finding. */
const resultsDocument = (r: IndicatorResult) => ({
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
  const outputs: Outputs = {}
  const wants = (name: string): boolean => index.byName.has(name)
  if (!batch) {
    // One indicator (the usual run): each declared value goes straight to its place; a missing one is left out.
    const [r] = results
    if (r === undefined) return outputs
    emitIndicatorOutputs(r, sourceOutputs, writebacks[0], index.responseSources, wants, (name, value) => {
      const declared = index.byName.get(name)
      if (declared === undefined || value === null) return
      if (declared.shape === 'scalar' ? typeof value === 'string' : Array.isArray(value))
        setOutput(outputs, declared.path, value)
    })
    return outputs
  }
  // An array: each declared output becomes an array aligned with the input, null where an indicator has no value;
  // only names some indicator has a value for (walking every declared output showed in profiles).
  const columns = new Map<string, OutputValue[]>()
  results.forEach((r, i) =>
    emitIndicatorOutputs(r, sourceOutputs, writebacks[i], index.responseSources, wants, (name, value) => {
      if (value === null || !index.byName.has(name)) return
      let column = columns.get(name)
      if (column === undefined) columns.set(name, (column = new Array<OutputValue>(results.length).fill(null)))
      column[i] = value
    }),
  )
  for (const [name, column] of columns) {
    const declared = index.byName.get(name)
    if (declared === undefined) continue
    setOutput(
      outputs,
      declared.path,
      column.map((v) => (v === null ? null : typeof v === 'string' ? v : v.join(index.listDelimiter))),
    )
  }
  return outputs
}
