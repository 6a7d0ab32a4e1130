/**
 * The declared outputs, indexed from playbook.outputVariables. An output declared as both String and StringArray
 * is per-indicator: a String for one indicator, an aligned StringArray for an array of them. One declared only as
 * StringArray is a list: for an array of indicators each item is that indicator's list joined by listDelimiter.
 */
import type { AppConfig, PlaybookDataType } from './types.js'

export type OutputShape = 'scalar' | 'list'

export interface DeclaredOutput {
  readonly name: string
  readonly types: ReadonlySet<PlaybookDataType>
  readonly shape: OutputShape
  readonly note: string
}

export interface OutputIndex {
  readonly byName: ReadonlyMap<string, DeclaredOutput>
  readonly listDelimiter: string
}

export const indexOutputs = (config: AppConfig): OutputIndex => {
  const types = new Map<string, Set<PlaybookDataType>>()
  const notes = new Map<string, string>()
  for (const v of config.playbook.outputVariables) {
    const set = types.get(v.name) ?? new Set<PlaybookDataType>()
    set.add(v.type)
    types.set(v.name, set)
    if (!notes.has(v.name) || v.type === 'String') notes.set(v.name, v.note ?? '')
  }
  const byName = new Map<string, DeclaredOutput>()
  for (const [name, set] of types) {
    byName.set(name, { name, types: set, shape: set.has('String') ? 'scalar' : 'list', note: notes.get(name) ?? '' })
  }
  return { byName, listDelimiter: config.listDelimiter }
}

/** The platform type of an output value: what the reply and the KV store carry. */
export const typeOfValue = (value: string | readonly (string | null)[]): PlaybookDataType =>
  typeof value === 'string' ? 'String' : 'StringArray'
