/**
 * Every kind a rule may name: the built-ins, then each plugin's, in ALERTS_CONFIG's order. A kind two plugins define,
 * or a part without what its role needs, is a start-up problem, all named at once.
 */
import type { AlertPlugin, FormatterDefinition, NotifierDefinition, ServiceDefinition } from './api.js'
import { BUILTIN_PLUGIN } from './builtin.js'

export interface Registry {
  readonly services: ReadonlyMap<string, ServiceDefinition>
  readonly formatters: ReadonlyMap<string, FormatterDefinition>
  readonly notifiers: ReadonlyMap<string, NotifierDefinition>
}

const KIND = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

/** What a part of each role must have; undefined when it has it. */
const ROLE_CHECKS = {
  services: (s: ServiceDefinition): string | undefined =>
    typeof s.fetch === 'function' || (s.hears !== undefined && typeof s.select === 'function')
      ? undefined
      : 'a service needs fetch() (polling) or hears + select() (events)',
  formatters: (f: FormatterDefinition): string | undefined =>
    typeof f.format === 'function' ? undefined : 'a formatter needs format()',
  notifiers: (n: NotifierDefinition): string | undefined =>
    typeof n.create !== 'function'
      ? 'a notifier needs create(settings)'
      : typeof n.formatter !== 'string'
        ? 'a notifier names its formatter kind (formatter: "...")'
        : undefined,
} as const

type Role = keyof typeof ROLE_CHECKS

/** The registry of the built-ins and these plugins (each named by where it came from); problems listed. */
export const buildRegistry = (
  plugins: ReadonlyArray<{ readonly name: string; readonly plugin: AlertPlugin }>,
): { registry: Registry; problems: string[] } => {
  const maps = { services: new Map(), formatters: new Map(), notifiers: new Map() } as {
    services: Map<string, ServiceDefinition>
    formatters: Map<string, FormatterDefinition>
    notifiers: Map<string, NotifierDefinition>
  }
  const from = new Map<string, string>()
  const problems: string[] = []
  for (const { name, plugin } of [{ name: 'the built-ins', plugin: BUILTIN_PLUGIN }, ...plugins]) {
    for (const role of Object.keys(ROLE_CHECKS) as Role[]) {
      for (const [kind, part] of Object.entries(plugin[role] as Record<string, unknown>)) {
        const where = `${name}: ${role.slice(0, -1)} '${kind}'`
        const missing =
          typeof part !== 'object' || part === null
            ? 'is not an object'
            : (ROLE_CHECKS[role] as (p: unknown) => string | undefined)(part)
        if (!KIND.test(kind)) problems.push(`${where}: a kind is a letter then letters, digits, _ or - (at most 64)`)
        else if (from.has(`${role}:${kind}`))
          problems.push(`${where}: already defined by ${from.get(`${role}:${kind}`)}`)
        else if (missing !== undefined) problems.push(`${where}: ${missing}`)
        else {
          from.set(`${role}:${kind}`, name)
          ;(maps[role] as Map<string, unknown>).set(kind, part)
        }
      }
    }
  }
  for (const [kind, n] of maps.notifiers)
    if (!maps.formatters.has(n.formatter))
      problems.push(
        `${from.get(`notifiers:${kind}`) ?? ''}: notifier '${kind}': formatter '${n.formatter}' is not defined`,
      )
  return { registry: maps, problems }
}
