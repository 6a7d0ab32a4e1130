/**
 * Playbook variables (`#App:<jobId>:<name>!<Type>`): parsing the platform's tc_playbook_out_variables, checking
 * them against the contract's outputs, and encoding values the way the platform's key-value store holds them
 * (every value JSON-encoded). Pure. Facts: the shared ThreatConnect reference, "Playbook variables and the key-value store".
 */
import type { OutputIndex } from '../contract/outputs.js'
import { PLAYBOOK_DATA_TYPES, type PlaybookDataType } from '../contract/types.js'
import type { Outputs } from '../enrich/outputs.js'

export interface PlaybookVariable {
  /** The full variable as given (trimmed), e.g. "#App:9876:enrich.verdict!String". Keys the reply and Redis. */
  readonly raw: string
  /** "App" or "Trigger" in practice; the platform's syntax allows any word. */
  readonly kind: string
  /** Digits, kept as text: an id, never arithmetic. */
  readonly jobId: string
  readonly name: string
  /** A platform data type, or a custom type name (which no contract of ours declares). */
  readonly type: string
}

/** A requested variable the contract declares: its type is one of ours. */
export interface RequestedVariable extends PlaybookVariable {
  readonly type: PlaybookDataType
}

export type ParseResult<T> = { readonly ok: true } & T
export type Failure = { readonly ok: false; readonly reason: string }

export const VARIABLE_SYNTAX = '#App:<jobId>:<name>!<Type>'

const VARIABLE = /^#([A-Za-z]+):(\d+):([A-Za-z0-9_.\-[\]]+)!([A-Za-z0-9_-]+)$/

export const parseVariable = (text: string): ParseResult<{ readonly variable: PlaybookVariable }> | Failure => {
  const raw = text.trim()
  const m = VARIABLE.exec(raw)
  if (m === null) return { ok: false, reason: `${JSON.stringify(raw)} is not a playbook variable (expected ${VARIABLE_SYNTAX})` }
  const [, kind, jobId, name, type] = m as unknown as [string, string, string, string, string]
  return { ok: true, variable: { raw, kind, jobId, name, type } }
}

/** The platform sends a CSV; an array is accepted too (its items may themselves be CSV). Empty items are skipped, repeats dropped. */
export const parseOutVariables = (
  value: string | readonly string[],
): ParseResult<{ readonly variables: readonly PlaybookVariable[] }> | (Failure & { readonly text: string }) => {
  const items = (typeof value === 'string' ? [value] : value).flatMap((v) => v.split(',')).map((v) => v.trim())
  const variables: PlaybookVariable[] = []
  const seen = new Set<string>()
  for (const item of items) {
    if (item === '' || seen.has(item)) continue
    const parsed = parseVariable(item)
    if (!parsed.ok) return { ok: false, reason: parsed.reason, text: item }
    seen.add(item)
    variables.push(parsed.variable)
  }
  return { ok: true, variables }
}

const isPlaybookDataType = (type: string): type is PlaybookDataType => (PLAYBOOK_DATA_TYPES as readonly string[]).includes(type)

/**
 * Every requested variable must be an output the contract declares with that very type (one name may be declared
 * as both String and StringArray). On failure, `undeclared` names every one that is not, in request order.
 */
export const resolveRequestedVariables = (
  requested: readonly PlaybookVariable[],
  index: OutputIndex,
): ParseResult<{ readonly variables: readonly RequestedVariable[] }> | (Failure & { readonly undeclared: readonly string[] }) => {
  const resolved: RequestedVariable[] = []
  const problems: string[] = []
  const unknown: string[] = []
  for (const v of requested) {
    const declared = index.byName.get(v.name)
    if (declared !== undefined && isPlaybookDataType(v.type) && declared.types.has(v.type)) {
      resolved.push({ ...v, type: v.type })
      continue
    }
    unknown.push(v.raw)
    problems.push(
      declared === undefined
        ? `${v.raw}: this app has no output named ${v.name}`
        : `${v.raw}: output ${v.name} is declared as ${[...declared.types].join(' and ')}, not ${v.type}`,
    )
  }
  if (unknown.length > 0) return { ok: false, undeclared: unknown, reason: `undeclared variable${unknown.length === 1 ? '' : 's'}: ${problems.join('; ')}` }
  return { ok: true, variables: resolved }
}

// ---- encoding -----------------------------------------------------------------------------------------------------

/** What one value of a type looks like once decoded from the store: plain JSON. */
export type PlatformValue = string | readonly (string | null)[] | Record<string, unknown> | readonly unknown[]

const isMissing = (v: unknown): v is null | undefined => v === null || v === undefined

const fail = (type: string, value: unknown, why: string): never => {
  throw new TypeError(`cannot encode ${describe(value)} as ${type}: ${why}`)
}

const describe = (v: unknown): string => (Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v)

const asString = (type: string, v: unknown): string => {
  if (typeof v === 'string') return v
  // The platform stores bools and numbers given for a String as their text.
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return fail(type, v, 'expected a string, number or boolean')
}

const asArray = (type: string, v: unknown): readonly unknown[] => (Array.isArray(v) ? v : fail(type, v, 'expected an array'))

const asRecord = (type: string, v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(type, v, 'expected an object')

const asBase64 = (type: string, v: unknown): string => {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
  if (typeof v === 'string') return Buffer.from(v, 'utf8').toString('base64')
  return fail(type, v, 'expected bytes (Uint8Array/Buffer) or a string')
}

const keyValue = (v: unknown): Record<string, unknown> => {
  const kv = asRecord('KeyValue', v)
  if (typeof kv['key'] !== 'string') fail('KeyValue', v, 'key must be a string')
  // Fixed member order: {"key","value"}, nothing else.
  return { key: kv['key'], value: kv['value'] ?? null }
}

const tcEntity = (v: unknown): Record<string, unknown> => {
  const e = asRecord('TCEntity', v)
  if (typeof e['type'] !== 'string' || typeof e['value'] !== 'string') fail('TCEntity', v, 'type and value must be strings')
  const id = e['id']
  if (!isMissing(id) && typeof id !== 'string' && typeof id !== 'number') fail('TCEntity', v, 'id must be a string or number')
  // {"id","type","value"} plus the optional confidence and rating, in that order.
  return {
    id: id ?? null,
    type: e['type'],
    value: e['value'],
    ...(isMissing(e['confidence']) ? {} : { confidence: e['confidence'] }),
    ...(isMissing(e['rating']) ? {} : { rating: e['rating'] }),
  }
}

/** Items of array types may be null (e.g. a batch item with no value); they are kept as null. */
const each = (type: string, v: unknown, item: (x: unknown) => unknown): unknown[] =>
  asArray(type, v).map((x) => (isMissing(x) ? null : item(x)))

/**
 * A value as the platform holds it for `type`, before JSON-encoding; null when there is no value (nothing is then
 * written). Throws a TypeError when the value cannot be one of `type` (a bug in the caller, not bad input).
 */
export const toPlatformValue = (type: PlaybookDataType, value: unknown): PlatformValue | null => {
  if (isMissing(value)) return null
  switch (type) {
    case 'String':
      return asString(type, value)
    case 'StringArray':
      return each(type, value, (x) => asString(type, x)) as (string | null)[]
    case 'Binary':
      return asBase64(type, value)
    case 'BinaryArray':
      return each(type, value, (x) => asBase64(type, x))
    case 'KeyValue':
      return keyValue(value)
    case 'KeyValueArray':
      return each(type, value, keyValue)
    case 'TCEntity':
      return tcEntity(value)
    case 'TCEntityArray':
      return each(type, value, tcEntity)
    case 'TCEnhancedEntity':
      return asRecord(type, value)
    case 'TCEnhancedEntityArray':
      return each(type, value, (x) => asRecord(type, x))
    case 'Any':
      // No declared shape: stored as the JSON of whatever it is.
      return JSON.parse(JSON.stringify(value)) as PlatformValue
  }
}

/** The key-value store encoding of a value: JSON text, or null when there is no value (not written). */
export const encodeValue = (type: PlaybookDataType, value: unknown): string | null => {
  const v = toPlatformValue(type, value)
  return v === null ? null : JSON.stringify(v)
}

// ---- outputs -> requested variables ---------------------------------------------------------------------------------

/**
 * The reply's value of one output, when it has the variable's type: a String variable takes a string value, a
 * StringArray variable an array (so one name declared with both types answers each with its own form). The reply
 * carries no other types, so those always have no value.
 */
const outputFor = (variable: PlaybookVariable, outputs: Outputs): Outputs[string] | null => {
  const value = outputs[variable.name]
  if (value === undefined) return null
  if (variable.type === 'String') return typeof value === 'string' ? value : null
  if (variable.type === 'StringArray') return Array.isArray(value) ? value : null
  return null
}

/** The reply's `variables`: exactly the requested ones, keyed by the full variable; null where there is no value. */
export const selectVariables = (requested: readonly PlaybookVariable[], outputs: Outputs): Record<string, PlatformValue | null> => {
  const selected: Record<string, PlatformValue | null> = {}
  for (const v of requested) {
    const value = outputFor(v, outputs)
    selected[v.raw] = value === null || !isPlaybookDataType(v.type) ? null : toPlatformValue(v.type, value)
  }
  return selected
}

/** The same values encoded for the key-value store (null = not written), ready for writeVariables. */
export const encodeVariables = (requested: readonly PlaybookVariable[], outputs: Outputs): Record<string, string | null> => {
  const encoded: Record<string, string | null> = {}
  for (const [raw, value] of Object.entries(selectVariables(requested, outputs))) encoded[raw] = value === null ? null : JSON.stringify(value)
  return encoded
}
