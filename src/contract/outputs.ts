/**
 * The declared outputs, indexed from playbook.outputVariables. Each name has one type: a String output carries one
 * value per indicator, a StringArray output a list per indicator. The reply nests outputs by the dots of their
 * names (`enrich.results.verdict` is `outputs.enrich.results.verdict`), so a playbook maps each one with a plain
 * path that reads like its name; the validator makes sure no name is a prefix of another.
 */
import type { AppConfig, PlaybookDataType } from './types.js'

type OutputShape = 'scalar' | 'list'

export interface DeclaredOutput {
  readonly name: string
  /** The name split at its dots: the path of the value in the reply's `outputs`. */
  readonly path: readonly string[]
  readonly type: PlaybookDataType
  readonly shape: OutputShape
  readonly note: string
}

export interface OutputIndex {
  readonly byName: ReadonlyMap<string, DeclaredOutput>
  readonly listDelimiter: string
  /** Sources whose raw answer is a declared output (`enrich.response.<id>.json`): only those are serialised. */
  readonly responseSources: ReadonlySet<string>
}

const RESPONSE_OUTPUT = /^enrich\.response\.([a-z0-9_]+)\.json$/

export const indexOutputs = (config: AppConfig): OutputIndex => {
  const byName = new Map<string, DeclaredOutput>()
  const responseSources = new Set<string>()
  for (const v of config.playbook.outputVariables) {
    if (byName.has(v.name)) continue
    byName.set(v.name, {
      name: v.name,
      path: v.name.split('.'),
      type: v.type,
      shape: v.type === 'StringArray' ? 'list' : 'scalar',
      note: v.note ?? '',
    })
    const response = RESPONSE_OUTPUT.exec(v.name)?.[1]
    if (response !== undefined) responseSources.add(response)
  }
  return { byName, listDelimiter: config.listDelimiter, responseSources }
}

/** A nested outputs object, as the reply carries it. */
export interface NestedOutputs {
  [segment: string]: NestedOutputs | string | readonly (string | null)[]
}

/** Sets `value` at the output's path, creating the objects on the way. */
export const setOutput = (
  target: NestedOutputs,
  path: readonly string[],
  value: string | readonly (string | null)[],
): void => {
  let node = target
  const last = path.length - 1
  for (let i = 0; i < last; i++) {
    const segment = path[i] as string
    const next = node[segment]
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next as NestedOutputs
    else node = node[segment] = {}
  }
  node[path[last] as string] = value
}

/** The flat view `{ "enrich.results.verdict": ... }` of a nested outputs object (for docs, the demo and tests). */
export const flattenOutputs = (
  nested: NestedOutputs,
  prefix = '',
): Record<string, string | readonly (string | null)[]> => {
  const flat: Record<string, string | readonly (string | null)[]> = {}
  for (const [key, value] of Object.entries(nested)) {
    const name = prefix === '' ? key : `${prefix}.${key}`
    if (typeof value === 'string' || Array.isArray(value)) flat[name] = value as string | readonly (string | null)[]
    else Object.assign(flat, flattenOutputs(value as NestedOutputs, name))
  }
  return flat
}
