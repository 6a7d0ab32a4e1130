/**
 * ALERTS_CONFIG: a JSON file `{"rules": [...]}`, checked at start-up against a TypeBox schema. Every problem is named
 * by the rule's id (or position) and the field, all at once, so a bad file is fixed in one go.
 */
import { readFileSync } from 'node:fs'
import { Type, type Static } from 'typebox'
import { Compile } from 'typebox/compile'
import { checkEmail } from '../indicators/email.js'
import { ALERT_SERVICES, ALERT_VERDICTS, type Destination } from './types.js'

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max })
const List = <T extends ReturnType<typeof Text>>(item: T) => Type.Array(item, { minItems: 1, maxItems: 50 })

const DestinationsSchema = Type.Object(
  {
    slackChannels: Type.Optional(List(Text(80))),
    slackUsers: Type.Optional(List(Text(254))),
    email: Type.Optional(List(Text(254))),
    webhooks: Type.Optional(List(Text(2048))),
    /** More than the issue names: the Slack incoming webhook (SLACK_WEBHOOK_URL), whose channel is fixed by Slack. */
    slackWebhook: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

const Common = {
  id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  destinations: DestinationsSchema,
  /** Off without deleting the rule. */
  enabled: Type.Optional(Type.Boolean()),
}

const RuleSchema = Type.Union([
  Type.Object({ ...Common, service: Type.Literal('watchlist'), tql: Text(2000) }, { additionalProperties: false }),
  Type.Object(
    {
      ...Common,
      service: Type.Literal('verdict'),
      minVerdict: Type.Union([Type.Literal(ALERT_VERDICTS[0]), Type.Literal(ALERT_VERDICTS[1])]),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      ...Common,
      service: Type.Literal('feed'),
      minRating: Type.Integer({ minimum: 0, maximum: 5 }),
      /** Only these feeds' new indicators (default: every feed's). */
      feeds: Type.Optional(List(Text(64))),
    },
    { additionalProperties: false },
  ),
])

export type AlertRule = Static<typeof RuleSchema>
export type WatchlistRule = Extract<AlertRule, { service: 'watchlist' }>
export type VerdictRule = Extract<AlertRule, { service: 'verdict' }>
export type FeedRule = Extract<AlertRule, { service: 'feed' }>

const ruleValidators = Object.fromEntries(
  ALERT_SERVICES.map((service) => [service, RuleSchema.anyOf.find((s) => s.properties.service.const === service)]),
) as Record<(typeof ALERT_SERVICES)[number], (typeof RuleSchema.anyOf)[number]>

let compiled: Map<string, ReturnType<typeof Compile>> | undefined
const validatorFor = (service: (typeof ALERT_SERVICES)[number]) => {
  compiled ??= new Map()
  let v = compiled.get(service)
  if (v === undefined) compiled.set(service, (v = Compile(ruleValidators[service])))
  return v
}

interface SchemaError {
  readonly keyword: string
  readonly instancePath: string
  readonly params: unknown
  readonly message: string
}

/** Schema errors in a person's words: one per field, "is required", "must be one of a, b", "unknown field". */
const schemaProblems = (errors: readonly SchemaError[]): string[] => {
  const byField = new Map<string, string>()
  const allowed = new Map<string, unknown[]>()
  const put = (field: string, text: string): void => {
    if (!byField.has(field)) byField.set(field, text)
  }
  for (const e of errors) {
    const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.')
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

/** The destinations of a rule, each one checked: e-mail addresses parse, URLs are http(s) without spaces. */
export const ruleDestinations = (rule: AlertRule): Destination[] => {
  const d = rule.destinations
  return [
    ...(d.slackChannels ?? []).map((target) => ({ kind: 'slackChannel' as const, target: target.trim() })),
    ...(d.slackUsers ?? []).map((target) => ({ kind: 'slackUser' as const, target: target.trim().toLowerCase() })),
    ...(d.slackWebhook === true ? [{ kind: 'slackWebhook' as const, target: '' }] : []),
    ...(d.email ?? []).map((target) => ({ kind: 'email' as const, target: target.trim().toLowerCase() })),
    ...(d.webhooks ?? []).map((target) => ({ kind: 'webhook' as const, target: target.trim() })),
  ]
}

/** What the settings offer: a rule naming a destination kind nobody configured is refused at start-up. */
export interface DestinationAvailability {
  readonly slackBotToken: boolean
  readonly slackWebhookUrl: boolean
  readonly smtp: boolean
}

const destinationProblems = (rule: AlertRule, name: string, available: DestinationAvailability): string[] => {
  const problems: string[] = []
  const d = rule.destinations
  const destinations = ruleDestinations(rule)
  if (destinations.length === 0)
    problems.push(
      `${name}: destinations: names no destination (slackChannels, slackUsers, slackWebhook, email, webhooks)`,
    )
  if ((d.slackChannels !== undefined || d.slackUsers !== undefined) && !available.slackBotToken) {
    problems.push(
      `${name}: destinations: slackChannels/slackUsers need SLACK_BOT_TOKEN (for the incoming webhook, set SLACK_WEBHOOK_URL and "slackWebhook": true)`,
    )
  }
  if (d.slackWebhook === true && !available.slackWebhookUrl)
    problems.push(`${name}: destinations.slackWebhook: needs SLACK_WEBHOOK_URL`)
  if (d.email !== undefined && !available.smtp)
    problems.push(`${name}: destinations.email: needs SMTP_URL and ALERT_EMAIL_FROM`)
  destinations.forEach((dest) => {
    if (dest.kind === 'email' || dest.kind === 'slackUser') {
      const checked = checkEmail(dest.target)
      const field = dest.kind === 'email' ? 'email' : 'slackUsers'
      if (!checked.ok)
        problems.push(
          `${name}: destinations.${field}: '${dest.target.slice(0, 80)}' is not an e-mail address (${checked.why})`,
        )
    }
    if (dest.kind === 'webhook') {
      let url: URL | undefined
      try {
        url = new URL(dest.target)
      } catch {
        url = undefined
      }
      if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || /\s/.test(dest.target)) {
        problems.push(
          `${name}: destinations.webhooks: not an http(s) URL (the value is not repeated: it may hold a secret)`,
        )
      }
    }
  })
  return problems
}

/** Parses and checks the rules; throws AlertConfigError listing every problem. */
export const parseAlertRules = (text: string, where: string, available: DestinationAvailability): AlertRule[] => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new AlertConfigError(where, [`not valid JSON: ${(err as Error).message}`])
  }
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { rules?: unknown }).rules)) {
    throw new AlertConfigError(where, ['expected an object {"rules": [...]}'])
  }
  const rules: unknown[] = (json as { rules: unknown[] }).rules
  const problems: string[] = []
  const extra = Object.keys(json).filter((k) => k !== 'rules')
  if (extra.length > 0)
    problems.push(
      `unknown top-level field${extra.length === 1 ? '' : 's'} ${extra.map((k) => `'${k}'`).join(', ')} (only "rules")`,
    )
  const seen = new Set<string>()
  const good: AlertRule[] = []
  rules.forEach((raw, i) => {
    const id =
      typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
        ? (raw as { id: string }).id
        : undefined
    const name = id === undefined ? `rules[${i}]` : `rule '${id.slice(0, 64)}'`
    const service = typeof raw === 'object' && raw !== null ? (raw as { service?: unknown }).service : undefined
    if (!ALERT_SERVICES.includes(service as (typeof ALERT_SERVICES)[number])) {
      problems.push(`${name}: service: must be one of ${ALERT_SERVICES.join(', ')}`)
      return
    }
    const validator = validatorFor(service as (typeof ALERT_SERVICES)[number])
    if (!validator.Check(raw)) {
      problems.push(...schemaProblems(validator.Errors(raw)).map((p) => `${name}: ${p}`))
      return
    }
    const rule = raw as AlertRule
    if (seen.has(rule.id)) problems.push(`${name}: id: used by another rule too`)
    seen.add(rule.id)
    problems.push(...destinationProblems(rule, name, available))
    good.push(rule)
  })
  if (problems.length > 0) throw new AlertConfigError(where, problems)
  return good.filter((r) => r.enabled !== false)
}

export const loadAlertRules = (path: string, available: DestinationAvailability): AlertRule[] => {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new AlertConfigError(`ALERTS_CONFIG (${path})`, [
      `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    ])
  }
  return parseAlertRules(text, `ALERTS_CONFIG (${path})`, available)
}
