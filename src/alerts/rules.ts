/**
 * ALERTS_CONFIG's rules, checked at start-up against what the registry offers: a rule names a service kind (and the
 * fields that service declares), destinations by notifier kind (`"<kind>": <settings>` or a list of them, each
 * checked against that notifier's settings schema), optionally a formatter per notifier, a repeatInterval, and
 * `enabled`. Every problem is named by the rule's id (or position) and the field, all at once, so a bad file is fixed
 * in one go.
 */
import { Type, type TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { parseDuration } from '../config/duration.js'
import type { RuleBase } from './api.js'
import type { Registry } from './registry.js'
import type { Destination } from './types.js'

export interface AlertRule {
  readonly id: string
  readonly service: string
  /** The rule as written: what its service reads (its own fields beside id and service). */
  readonly fields: RuleBase & Readonly<Record<string, unknown>>
  readonly destinations: readonly Destination[]
  /** Notifier kind -> the formatter kind this rule's messages to it take. */
  readonly formatters: Readonly<Record<string, string>>
  /** Re-notify an alert raised again this long after it was sent; undefined: once. */
  readonly repeatIntervalMs: number | undefined
}

const COMMON = {
  id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  destinations: Type.Record(Type.String(), Type.Unknown()),
  /** Off without deleting the rule. */
  enabled: Type.Optional(Type.Boolean()),
  repeatInterval: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
  formatters: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1, maxLength: 64 }))),
}

interface SchemaError {
  readonly keyword: string
  readonly instancePath: string
  readonly params: unknown
  readonly message: string
}

/** Schema errors in a person's words: one per field, "is required", "must be one of a, b", "unknown field". */
const schemaProblems = (errors: readonly SchemaError[], prefix = ''): string[] => {
  const byField = new Map<string, string>()
  const allowed = new Map<string, unknown[]>()
  const put = (field: string, text: string): void => {
    if (!byField.has(field)) byField.set(field, text)
  }
  for (const e of errors) {
    const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.')
    const field = prefix === '' ? path : path === '' ? prefix : `${prefix}.${path}`
    const params = (e.params ?? {}) as {
      requiredProperties?: string[]
      additionalProperties?: string[]
      allowedValue?: unknown
    }
    if (e.keyword === 'required')
      for (const p of params.requiredProperties ?? []) put(field === '' ? p : `${field}.${p}`, 'is required')
    else if (e.keyword === 'additionalProperties')
      for (const p of params.additionalProperties ?? [])
        put(field === '' ? p : `${field}.${p}`, 'is not a field of this rule (a typo?)')
    else if (e.keyword === 'const') allowed.set(field, [...(allowed.get(field) ?? []), params.allowedValue])
    else if (e.keyword === 'boolean') continue
    else if (e.keyword === 'anyOf' && allowed.has(field))
      put(field, `must be one of ${(allowed.get(field) ?? []).join(', ')}`)
    else put(field, e.message)
  }
  return [...byField].map(([field, text]) => `${field === '' ? '(the rule)' : field}: ${text}`)
}

export class AlertConfigError extends Error {
  constructor(
    readonly where: string,
    readonly problems: readonly string[],
  ) {
    super(`${where}:\n${problems.map((p) => `  ${p}`).join('\n')}`)
    this.name = 'AlertConfigError'
  }
}

type Validator = ReturnType<typeof Compile>
const validators = new WeakMap<object, Validator>()
/** One compiled validator per schema object (a plugin's schema is compiled once, however many rules use it). */
const validatorOf = (schema: TSchema): Validator => {
  let v = validators.get(schema)
  if (v === undefined) validators.set(schema, (v = Compile(schema)))
  return v
}

const ruleSchemas = new WeakMap<Registry, Map<string, TSchema>>()
const ruleSchemaOf = (registry: Registry, kind: string): TSchema => {
  let byKind = ruleSchemas.get(registry)
  if (byKind === undefined) ruleSchemas.set(registry, (byKind = new Map()))
  let schema = byKind.get(kind)
  if (schema === undefined) {
    const own = registry.services.get(kind)?.rule?.properties ?? {}
    schema = Type.Object({ ...COMMON, ...own, service: Type.Literal(kind) }, { additionalProperties: false })
    byKind.set(kind, schema)
  }
  return schema
}

/** A rule's destinations, each checked against its notifier's settings; problems named by field. */
const destinationsOf = (
  raw: Readonly<Record<string, unknown>>,
  registry: Registry,
): { destinations: Destination[]; problems: string[] } => {
  const destinations: Destination[] = []
  const problems: string[] = []
  const seen = new Set<string>()
  for (const [kind, value] of Object.entries(raw)) {
    const notifier = registry.notifiers.get(kind)
    if (notifier === undefined) {
      problems.push(`destinations.${kind}: not a notifier kind (known: ${[...registry.notifiers.keys()].join(', ')})`)
      continue
    }
    const list = Array.isArray(value) ? (value as unknown[]) : [value]
    if (list.length === 0) problems.push(`destinations.${kind}: an empty list`)
    list.forEach((settings, i) => {
      const field = Array.isArray(value) ? `destinations.${kind}[${i}]` : `destinations.${kind}`
      if (notifier.settings !== undefined) {
        const v = validatorOf(notifier.settings)
        if (!v.Check(settings)) {
          // The value is not repeated: a webhook's URL may be its credential.
          problems.push(...schemaProblems(v.Errors(settings) as SchemaError[], field))
          return
        }
      }
      const target = notifier.target?.(settings) ?? JSON.stringify(settings)
      if (seen.has(`${kind}\n${target}`)) problems.push(`${field}: named twice in this rule`)
      seen.add(`${kind}\n${target}`)
      destinations.push({ kind, target, settings })
    })
  }
  if (destinations.length === 0 && problems.length === 0)
    problems.push(`destinations: names no destination (notifier kinds: ${[...registry.notifiers.keys()].join(', ')})`)
  return { destinations, problems }
}

export interface RuleOptions {
  readonly registry: Registry
  /** ALERTS_RETENTION: a repeatInterval longer than it could not be kept (the key is gone by then). */
  readonly retentionMs: number
}

/** One rule checked: the rule, or its problems (each prefixed by the rule's name). */
const parseRule = (raw: unknown, i: number, options: RuleOptions): { rule?: AlertRule; problems: string[] } => {
  const { registry } = options
  const obj = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
  const id = typeof obj['id'] === 'string' ? obj['id'] : undefined
  const name = id === undefined ? `rules[${i}]` : `rule '${id.slice(0, 64)}'`
  const named = (list: readonly string[]) => list.map((p) => `${name}: ${p}`)
  const service = obj['service']
  if (typeof service !== 'string' || !registry.services.has(service))
    return { problems: named([`service: must be one of ${[...registry.services.keys()].join(', ')}`]) }
  const validator = validatorOf(ruleSchemaOf(registry, service))
  if (!validator.Check(raw)) return { problems: named(schemaProblems(validator.Errors(raw) as SchemaError[])) }
  const problems: string[] = []
  const { destinations, problems: dp } = destinationsOf(obj['destinations'] as Record<string, unknown>, registry)
  problems.push(...dp)
  const formatters = (obj['formatters'] ?? {}) as Record<string, string>
  for (const [notifier, formatter] of Object.entries(formatters)) {
    if (!destinations.some((d) => d.kind === notifier))
      problems.push(`formatters.${notifier}: this rule has no ${notifier} destination`)
    if (!registry.formatters.has(formatter))
      problems.push(
        `formatters.${notifier}: '${formatter}' is not a formatter kind (known: ${[...registry.formatters.keys()].join(', ')})`,
      )
  }
  let repeatIntervalMs: number | undefined
  if (typeof obj['repeatInterval'] === 'string') {
    try {
      repeatIntervalMs = parseDuration(obj['repeatInterval'], 366 * 86_400_000)
      if (repeatIntervalMs < 60_000) problems.push('repeatInterval: at least 1m')
      else if (repeatIntervalMs > options.retentionMs)
        problems.push('repeatInterval: longer than ALERTS_RETENTION, which would forget the alert first')
    } catch (err) {
      problems.push(`repeatInterval: ${(err as Error).message}`)
    }
  }
  if (problems.length > 0) return { problems: named(problems) }
  return {
    rule: {
      id: id as string,
      service,
      fields: obj as RuleBase & Record<string, unknown>,
      destinations,
      formatters,
      repeatIntervalMs,
    },
    problems: [],
  }
}

/** The rules checked; problems listed (ids used twice too). Disabled rules are checked, then left out. */
export const parseRules = (
  raw: readonly unknown[],
  options: RuleOptions,
): { rules: AlertRule[]; problems: string[] } => {
  const problems: string[] = []
  const rules: AlertRule[] = []
  const seen = new Set<string>()
  raw.forEach((r, i) => {
    const parsed = parseRule(r, i, options)
    problems.push(...parsed.problems)
    const id = (r as { id?: unknown } | null)?.id
    if (typeof id === 'string') {
      if (seen.has(id)) problems.push(`rule '${id.slice(0, 64)}': id: used by another rule too`)
      seen.add(id)
    }
    if (parsed.rule !== undefined && (r as { enabled?: unknown }).enabled !== false) rules.push(parsed.rule)
  })
  return { rules, problems }
}
