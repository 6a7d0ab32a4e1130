/**
 * Variable references inside playbook text: playbook variables `#App:<job id>:<name>!<Type>`,
 * `#Trigger:<trigger id>:<name>!<Type>`, `#Global:<id>:<name>!<Type>`, and organization variables as exports
 * write them, `${ORGANIZATION:KEYCHAIN:<name>}` / `${ORGANIZATION:TEXT:<name>}`. (`&{TC:...}` is only the runtime
 * form the platform hands a running app; an export never holds it, so the checker reports it.)
 */

export type PlaybookVariableProvider = 'App' | 'Trigger' | 'Global'

export interface PlaybookVariableReference {
  readonly kind: 'playbook'
  readonly text: string
  readonly provider: PlaybookVariableProvider
  readonly id: number
  readonly name: string
  readonly type: string
}

interface OrgVariableReference {
  readonly kind: 'org'
  readonly text: string
  /** TEXT, KEYCHAIN or FILE. */
  readonly type: string
  readonly name: string
}

/** Text that starts like a playbook variable but is not one (a missing `!Type`, a bad id ...). */
interface MalformedReference {
  readonly kind: 'malformed'
  readonly text: string
}

export type VariableReference = PlaybookVariableReference | OrgVariableReference | MalformedReference

// Name characters as the platform allows them; the type is checked against the known types by the caller.
const PLAYBOOK_VARIABLE = /#(App|Trigger|Global):(\d+):([A-Za-z0-9_.\-[\]]+)!([A-Za-z]+)/y
const PLAYBOOK_VARIABLE_START = /#(?:App|Trigger|Global|PB):/g
const ORG_VARIABLE = /\$\{ORGANIZATION:(TEXT|KEYCHAIN|FILE):([^}]+)\}/g
/** The runtime form: never in an export. */
const RUNTIME_VARIABLE = /&\{[^}]*\}/g

export const playbookVariable = (provider: PlaybookVariableProvider, id: number, name: string, type: string): string =>
  `#${provider}:${id}:${name}!${type}`

export const orgVariable = (type: 'TEXT' | 'KEYCHAIN' | 'FILE', name: string): string =>
  `\${ORGANIZATION:${type}:${name}}`

/** Every reference in one string, in order of appearance. */
export const findVariableReferences = (text: string): VariableReference[] => {
  const found: { at: number; ref: VariableReference }[] = []
  for (const start of text.matchAll(PLAYBOOK_VARIABLE_START)) {
    PLAYBOOK_VARIABLE.lastIndex = start.index
    const m = PLAYBOOK_VARIABLE.exec(text)
    if (m === null) {
      found.push({
        at: start.index,
        ref: { kind: 'malformed', text: text.slice(start.index, start.index + 60).split(/\s/)[0] ?? '' },
      })
      continue
    }
    const [whole, provider, id, name, type] = m as unknown as [string, PlaybookVariableProvider, string, string, string]
    found.push({ at: start.index, ref: { kind: 'playbook', text: whole, provider, id: Number(id), name, type } })
  }
  for (const m of text.matchAll(ORG_VARIABLE)) {
    const [whole, type, name] = m as unknown as [string, string, string]
    found.push({ at: m.index, ref: { kind: 'org', text: whole, type, name } })
  }
  for (const m of text.matchAll(RUNTIME_VARIABLE)) found.push({ at: m.index, ref: { kind: 'malformed', text: m[0] } })
  return found.sort((a, b) => a.at - b.at).map((f) => f.ref)
}

/** Every string inside a JSON value (references inside JSON-in-a-string need no unwrapping: they hold no quotes). */
export const stringsIn = (value: unknown): string[] => {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap((item) => stringsIn(item))
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap((item) => stringsIn(item))
  return []
}
