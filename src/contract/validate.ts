/**
 * The `tcex validate`-style cross-checks over app.config.json and layouts/layout.json, plus our own
 * checks against the source registry. Pure: takes parsed JSON, returns every problem found.
 */
import type { ContractProblem } from '../errors.js'
import { PARAM_TYPES, PLAYBOOK_DATA_TYPES } from './types.js'
import type { AppConfig, Layout, LayoutOutput, LayoutParameter, OutputVariable, Param } from './types.js'
import { memberships, parseDisplayClause, referencedInputs } from './display-clause.js'
import type { DisplayClause } from './display-clause.js'

/** Stable rule ids (they appear in messages, tests and docs) and what each one demands. */
export const CONTRACT_RULES = {
  'file-missing': 'app.config.json and layouts/layout.json exist at the project root',
  'file-unreadable': 'both contract files can be read',
  'json-syntax': 'both contract files are valid JSON',
  'config-shape': 'app.config.json has the structure the other checks need (params, playbook.outputVariables)',
  'layout-shape': 'layout.json has the structure the other checks need (inputs[].parameters, outputs)',
  'config-program-version': 'programVersion is a semantic version',
  'config-runtime-level': 'runtimeLevel is "Playbook"',
  'config-list-delimiter': 'listDelimiter is "|"',
  'config-display-name': 'displayName is not empty',
  'config-app-id': 'appId is a uuid',
  'config-layout-feature': 'features includes "layoutEnabledApp"',
  'config-playbook-type': 'playbook.type is present',
  'config-language-version': 'languageVersion is present (tcex requires it)',
  'param-name': 'param names match ^[a-z0-9_]+$',
  'param-duplicate-name': 'no two params share a name',
  'param-duplicate-sequence': 'no two params share a sequence',
  'param-type': 'param type is a known install.json param type',
  'param-playbook-data-type': 'playbookDataType values are known playbook data types',
  'param-valid-values': 'Choice and MultiChoice params list their validValues',
  'param-choice-default': 'a Choice default is one of its validValues',
  'param-multichoice-default': 'a MultiChoice default is a "|"-joined list of its validValues',
  'param-boolean-default': 'a Boolean default is a boolean',
  'param-required-hidden': 'a required param is not hidden',
  'param-secret-keychain': 'an encrypted param offers only ${KEYCHAIN}',
  'output-name':
    'output names follow ThreatConnect\'s naming schema <slug>.<data type>.<descriptor>: "enrich.results." (processed) or "enrich.response." (raw answer), then lowercase [a-z0-9_] segments',
  'output-one-type': 'each output name has one type (a component output key is declared once)',
  'output-prefix': 'no output name is a dot-prefix of another (the reply nests outputs by their names)',
  'output-type': 'output type is a known playbook data type',
  'output-duplicate': 'no two outputs share both name and type',
  'layout-section-title': 'layout section titles are 3-100 characters',
  'layout-section-sequence': 'no two layout sections share a sequence',
  'layout-input-is-param': 'every layout input is an app.config.json param',
  'layout-input-hidden': 'no layout input is a hidden param',
  'layout-input-duplicate': 'each param is placed in the layout only once',
  'layout-param-missing': 'every non-hidden param is placed in the layout',
  'layout-output-declared': 'every layout output is a declared output variable',
  'layout-output-duplicate': 'each output name is listed in the layout only once',
  'layout-output-missing': 'every declared output variable is listed in the layout outputs',
  'display-clause-syntax': 'display clauses parse (name [not] in (...) joined by and / or)',
  'display-clause-unknown-input': 'display clauses only reference layout inputs',
  'display-clause-order': 'a clause on an input only references inputs placed earlier in the layout',
  'display-clause-value': 'values in a clause are valid values of the input they test',
  'display-clause-param-type':
    'display clauses test only Boolean and Choice/EditChoice inputs (tcex evaluates them as SQL over one stored value; a MultiChoice arrives "|"-joined)',
  'sources-param': 'a MultiChoice param "sources" exists',
  'sources-param-values': 'the "sources" param validValues are exactly the registered source ids',
  'source-output-declared':
    "every output a source publishes is declared as enrich.results.<id>.<key>, and every vendor source's raw answer as enrich.response.<id>.json",
  'source-output-owned': 'every declared enrich.results.<id>.* / enrich.response.<id>.* output belongs to source <id>',
} as const

export type ContractRule = keyof typeof CONTRACT_RULES

/**
 * What `tcex validate` checks that does not apply here, and why: app.config.json is the spec of an external
 * service and of the component's inputs and outputs, in install.json's shape; nothing installs it on the platform.
 */
export const TCEX_CHECKS_NOT_APPLIED: Readonly<Record<string, string>> = {
  programLanguage:
    'tcex allows JAVA, PYTHON or NONE, the runtimes the platform launches; this service is never launched by the platform (a playbook calls it over HTTP), so "NODE" names its own runtime',
  programMain: 'tcex expects the entry the platform runs per step; this is the long-running server the operator runs',
  'layout location':
    "tcex reads layout.json beside install.json of an installed app; a component has no layout, so layouts/layout.json documents the inputs' grouping and display clauses, checked here by tcex's rules",
  sdkVersion: 'filled in by `tcex package` for a Python app; no .tcx is built',
}

export interface SourceOutputs {
  readonly id: string
  readonly outputs: readonly { readonly key: string }[]
  /** A vendor source has a remote answer, exposed as enrich.response.<id>.json. */
  readonly kind?: 'embedded' | 'vendor'
}

export interface ContractFiles {
  readonly config: string
  readonly layout: string
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const PARAM_NAME = /^[a-z0-9_]+$/
const OUTPUT_NAME = /^enrich\.(results|response)(\.[a-z0-9_]+)+$/
/** ${TEXT}, ${KEYCHAIN}, ${OWNERS}, ...: the platform supplies or expands these, so their values cannot be checked. */
const SPECIAL_VALUE = /^\$\{[A-Z_]+\}$/
const SOURCES_PARAM = 'sources'
const LIST_DELIMITER = '|'

const problem = (file: string, entry: string, rule: ContractRule, message: string): ContractProblem => ({
  file,
  entry,
  rule,
  message,
})

const quoted = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ')

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string')

/** Structure the rules rely on; when it is broken the rules are skipped rather than crash on it. */
const checkShape = (config: unknown, layout: unknown, files: ContractFiles): ContractProblem[] => {
  const found: ContractProblem[] = []
  const configShape = (entry: string, message: string): void =>
    void found.push(problem(files.config, entry, 'config-shape', message))
  const layoutShape = (entry: string, message: string): void =>
    void found.push(problem(files.layout, entry, 'layout-shape', message))

  if (!isRecord(config)) {
    configShape('(top level)', 'must be a JSON object')
  } else {
    if (!Array.isArray(config.params)) configShape('params', 'must be an array')
    else
      config.params.forEach((param: unknown, i) => {
        if (!isRecord(param) || typeof param.name !== 'string')
          return configShape(`params[${i}]`, 'must be an object with a string name')
        const entry = `params[${i}] '${param.name}'`
        if (param.validValues !== undefined && !isStringArray(param.validValues))
          configShape(entry, 'validValues must be an array of strings')
        if (param.playbookDataType !== undefined && !isStringArray(param.playbookDataType))
          configShape(entry, 'playbookDataType must be an array of strings')
      })
    if (!isRecord(config.playbook)) configShape('playbook', 'must be an object')
    else if (!Array.isArray(config.playbook.outputVariables))
      configShape('playbook.outputVariables', 'must be an array')
    else
      config.playbook.outputVariables.forEach((output: unknown, i) => {
        if (!isRecord(output) || typeof output.name !== 'string')
          configShape(`playbook.outputVariables[${i}]`, 'must be an object with a string name')
      })
  }

  const checkDisplay = (entry: string, item: Record<string, unknown>): void => {
    if (item.display !== undefined && typeof item.display !== 'string') layoutShape(entry, 'display must be a string')
  }
  if (!isRecord(layout)) {
    layoutShape('(top level)', 'must be a JSON object')
    return found
  }
  if (!Array.isArray(layout.inputs)) layoutShape('inputs', 'must be an array')
  else
    layout.inputs.forEach((section: unknown, i) => {
      if (!isRecord(section)) return layoutShape(`inputs[${i}]`, 'must be an object')
      if (typeof section.sequence !== 'number') layoutShape(`inputs[${i}]`, 'sequence must be a number')
      if (!Array.isArray(section.parameters)) return layoutShape(`inputs[${i}]`, 'parameters must be an array')
      section.parameters.forEach((parameter: unknown, j) => {
        const entry = `inputs[${i}].parameters[${j}]`
        if (!isRecord(parameter) || typeof parameter.name !== 'string')
          return layoutShape(entry, 'must be an object with a string name')
        checkDisplay(`${entry} '${parameter.name}'`, parameter)
      })
    })
  if (!Array.isArray(layout.outputs)) layoutShape('outputs', 'must be an array')
  else
    layout.outputs.forEach((output: unknown, k) => {
      if (!isRecord(output) || typeof output.name !== 'string')
        return layoutShape(`outputs[${k}]`, 'must be an object with a string name')
      checkDisplay(`outputs[${k}] '${output.name}'`, output)
    })
  return found
}

const checkConfig = (config: AppConfig, file: string): ContractProblem[] => {
  const found: ContractProblem[] = []
  const at = (entry: string, rule: ContractRule, message: string): void =>
    void found.push(problem(file, entry, rule, message))
  const show = (value: unknown): string => JSON.stringify(value) ?? 'nothing'

  if (typeof config.programVersion !== 'string' || !SEMVER.test(config.programVersion))
    at(
      'programVersion',
      'config-program-version',
      `${show(config.programVersion)} is not a semantic version like "1.0.0"`,
    )
  if (config.runtimeLevel !== 'Playbook')
    at('runtimeLevel', 'config-runtime-level', `must be "Playbook", not ${show(config.runtimeLevel)}`)
  if (config.listDelimiter !== LIST_DELIMITER)
    at('listDelimiter', 'config-list-delimiter', `must be "|", not ${show(config.listDelimiter)}`)
  if (typeof config.displayName !== 'string' || config.displayName.trim() === '')
    at('displayName', 'config-display-name', 'must not be empty')
  if (typeof config.appId !== 'string' || !UUID.test(config.appId))
    at('appId', 'config-app-id', `${show(config.appId)} is not a uuid`)
  if (!Array.isArray(config.features) || !config.features.includes('layoutEnabledApp'))
    at('features', 'config-layout-feature', 'must include "layoutEnabledApp" (the app ships layouts/layout.json)')
  if (typeof config.playbook.type !== 'string' || config.playbook.type.trim() === '')
    at('playbook.type', 'config-playbook-type', 'must be present (e.g. "Data Enrichment")')
  if (typeof config['languageVersion'] !== 'string' || config['languageVersion'].trim() === '')
    at('languageVersion', 'config-language-version', 'must be present (the runtime version, e.g. "20")')
  return found
}

const paramEntry = (param: Param, i: number): string => `params[${i}] '${param.name}'`

const checkParamDefault = (param: Param, entry: string, file: string): ContractProblem[] => {
  const { type, default: value } = param
  if (value === undefined) return []
  if (type === 'Boolean')
    return typeof value === 'boolean'
      ? []
      : [problem(file, entry, 'param-boolean-default', `default ${JSON.stringify(value)} must be true or false`)]
  if (type !== 'Choice' && type !== 'MultiChoice') return []
  const validValues = param.validValues ?? []
  if (validValues.length === 0 || validValues.some((v) => SPECIAL_VALUE.test(v))) return []
  if (typeof value !== 'string' || SPECIAL_VALUE.test(value)) {
    if (typeof value === 'string') return []
    const rule = type === 'Choice' ? 'param-choice-default' : 'param-multichoice-default'
    return [problem(file, entry, rule, `default ${JSON.stringify(value)} must be a string`)]
  }
  if (type === 'Choice')
    return validValues.includes(value)
      ? []
      : [
          problem(
            file,
            entry,
            'param-choice-default',
            `default '${value}' is not one of its validValues (${quoted(validValues)})`,
          ),
        ]
  if (value === '') return []
  const unknown = value.split(LIST_DELIMITER).filter((item) => !validValues.includes(item))
  return unknown.length === 0
    ? []
    : [
        problem(
          file,
          entry,
          'param-multichoice-default',
          `default '${value}' has ${quoted(unknown)}, not among its validValues (${quoted(validValues)})`,
        ),
      ]
}

const checkParams = (params: readonly Param[], file: string): ContractProblem[] => {
  const found: ContractProblem[] = []
  const firstByName = new Map<string, number>()
  const firstBySequence = new Map<number, number>()
  params.forEach((param, i) => {
    const entry = paramEntry(param, i)
    const at = (rule: ContractRule, message: string): void => void found.push(problem(file, entry, rule, message))

    if (!PARAM_NAME.test(param.name)) at('param-name', `name '${param.name}' must match ^[a-z0-9_]+$`)
    const sameName = firstByName.get(param.name)
    if (sameName === undefined) firstByName.set(param.name, i)
    else at('param-duplicate-name', `name '${param.name}' is already used by params[${sameName}]`)
    if (typeof param.sequence === 'number') {
      const sameSequence = firstBySequence.get(param.sequence)
      if (sameSequence === undefined) firstBySequence.set(param.sequence, i)
      else
        at(
          'param-duplicate-sequence',
          `sequence ${param.sequence} is already used by ${paramEntry(params[sameSequence] as Param, sameSequence)}`,
        )
    }
    if (!(PARAM_TYPES as readonly unknown[]).includes(param.type))
      at('param-type', `type ${JSON.stringify(param.type)} is not one of ${PARAM_TYPES.join(', ')}`)
    const unknownDataTypes = (param.playbookDataType ?? []).filter(
      (t) => !(PLAYBOOK_DATA_TYPES as readonly string[]).includes(t),
    )
    if (unknownDataTypes.length > 0)
      at(
        'param-playbook-data-type',
        `playbookDataType ${quoted(unknownDataTypes)} unknown; use ${PLAYBOOK_DATA_TYPES.join(', ')}`,
      )
    if ((param.type === 'Choice' || param.type === 'MultiChoice') && (param.validValues ?? []).length === 0)
      at('param-valid-values', `a ${param.type} param needs a non-empty validValues list`)
    found.push(...checkParamDefault(param, entry, file))
    if (param.required === true && param.hidden === true)
      at('param-required-hidden', 'a required param cannot be hidden: nobody could fill it in')
    if (param.encrypt === true && JSON.stringify(param.validValues ?? []) !== '["${KEYCHAIN}"]')
      at(
        'param-secret-keychain',
        `a secret offers only ["\${KEYCHAIN}"], not ${JSON.stringify(param.validValues ?? [])}: typed text would sit in the playbook in the clear`,
      )
  })
  return found
}

const outputEntry = (output: OutputVariable, i: number): string => `playbook.outputVariables[${i}] '${output.name}'`

const checkOutputs = (outputs: readonly OutputVariable[], file: string): ContractProblem[] => {
  const found: ContractProblem[] = []
  const firstByKey = new Map<string, number>()
  outputs.forEach((output, i) => {
    const entry = outputEntry(output, i)
    if (!OUTPUT_NAME.test(output.name))
      found.push(
        problem(
          file,
          entry,
          'output-name',
          `name '${output.name}' must start "enrich.results." or "enrich.response." and go on in lowercase [a-z0-9_] segments joined by dots`,
        ),
      )
    if (!(PLAYBOOK_DATA_TYPES as readonly unknown[]).includes(output.type))
      found.push(
        problem(
          file,
          entry,
          'output-type',
          `type ${JSON.stringify(output.type)} is not one of ${PLAYBOOK_DATA_TYPES.join(', ')}`,
        ),
      )
    const key = `${output.name}!${String(output.type)}`
    const same = firstByKey.get(key)
    if (same === undefined) firstByKey.set(key, i)
    else
      found.push(
        problem(
          file,
          entry,
          'output-duplicate',
          `'${output.name}' of type ${String(output.type)} is already declared at playbook.outputVariables[${same}]`,
        ),
      )
  })
  const typeOf = new Map<string, { type: string; index: number }>()
  outputs.forEach((output, i) => {
    const first = typeOf.get(output.name)
    if (first === undefined) typeOf.set(output.name, { type: String(output.type), index: i })
    else if (first.type !== String(output.type))
      found.push(
        problem(
          file,
          outputEntry(output, i),
          'output-one-type',
          `'${output.name}' is already declared as ${first.type} at playbook.outputVariables[${first.index}]; declare one type per name`,
        ),
      )
  })
  const names = [...typeOf.keys()].sort()
  names.forEach((name, k) => {
    const next = names[k + 1]
    if (next !== undefined && next.startsWith(`${name}.`)) {
      const index = typeOf.get(next)?.index ?? 0
      found.push(
        problem(
          file,
          outputEntry(outputs[index] as OutputVariable, index),
          'output-prefix',
          `'${next}' extends output '${name}'; the reply could not hold both`,
        ),
      )
    }
  })
  return found
}

/** A layout input where it sits: `position` counts placements in display order (sections by sequence). */
interface Placement {
  readonly parameter: LayoutParameter
  readonly entry: string
  readonly position: number
}

const placementsInDisplayOrder = (layout: Layout): Placement[] => {
  const sections = layout.inputs.map((section, index) => ({ section, index }))
  sections.sort((a, b) => a.section.sequence - b.section.sequence || a.index - b.index)
  return sections
    .flatMap(({ section, index }) =>
      section.parameters.map((parameter, j) => ({
        parameter,
        entry: `inputs[${index}].parameters[${j}] '${parameter.name}'`,
      })),
    )
    .map((placed, position) => ({ ...placed, position }))
}

interface LayoutContext {
  readonly config: AppConfig
  readonly layout: Layout
  readonly files: ContractFiles
  readonly paramsByName: ReadonlyMap<string, Param>
  readonly placements: readonly Placement[]
  /** First placement of each layout input name. */
  readonly positionOf: ReadonlyMap<string, number>
}

const checkSectionsAndInputs = (ctx: LayoutContext): ContractProblem[] => {
  const { layout, files, config, paramsByName, placements } = ctx
  const found: ContractProblem[] = []
  const firstBySequence = new Map<number, number>()
  layout.inputs.forEach((section, i) => {
    const entry = `inputs[${i}] '${String(section.title)}'`
    if (typeof section.title !== 'string' || section.title.length < 3 || section.title.length > 100)
      found.push(problem(files.layout, entry, 'layout-section-title', 'section title must be 3-100 characters'))
    const same = firstBySequence.get(section.sequence)
    if (same === undefined) firstBySequence.set(section.sequence, i)
    else
      found.push(
        problem(
          files.layout,
          entry,
          'layout-section-sequence',
          `sequence ${section.sequence} is already used by inputs[${same}]`,
        ),
      )
  })

  const firstPlacement = new Map<string, Placement>()
  for (const placed of placements) {
    const { name } = placed.parameter
    const param = paramsByName.get(name)
    if (param === undefined)
      found.push(
        problem(files.layout, placed.entry, 'layout-input-is-param', `'${name}' is not a param in ${files.config}`),
      )
    else if (param.hidden === true)
      found.push(
        problem(
          files.layout,
          placed.entry,
          'layout-input-hidden',
          `'${name}' is a hidden param; hidden params stay out of the layout`,
        ),
      )
    const first = firstPlacement.get(name)
    if (first === undefined) firstPlacement.set(name, placed)
    else
      found.push(
        problem(
          files.layout,
          placed.entry,
          'layout-input-duplicate',
          `'${name}' is already placed at ${first.entry.split(' ')[0]}`,
        ),
      )
  }
  config.params.forEach((param, i) => {
    if (param.hidden !== true && !firstPlacement.has(param.name))
      found.push(
        problem(
          files.config,
          paramEntry(param, i),
          'layout-param-missing',
          `non-hidden param '${param.name}' is not placed in ${files.layout} inputs`,
        ),
      )
  })
  return found
}

const checkLayoutOutputs = (ctx: LayoutContext): ContractProblem[] => {
  const { layout, files, config } = ctx
  const found: ContractProblem[] = []
  const declared = new Set(config.playbook.outputVariables.map((o) => o.name))
  const listed = new Map<string, number>()
  layout.outputs.forEach((output, k) => {
    const entry = `outputs[${k}] '${output.name}'`
    if (!declared.has(output.name))
      found.push(
        problem(
          files.layout,
          entry,
          'layout-output-declared',
          `'${output.name}' is not in ${files.config} playbook.outputVariables`,
        ),
      )
    const same = listed.get(output.name)
    if (same === undefined) listed.set(output.name, k)
    else
      found.push(
        problem(
          files.layout,
          entry,
          'layout-output-duplicate',
          `'${output.name}' is already listed at outputs[${same}]`,
        ),
      )
  })
  const reported = new Set<string>()
  config.playbook.outputVariables.forEach((output, i) => {
    if (listed.has(output.name) || reported.has(output.name)) return
    reported.add(output.name)
    found.push(
      problem(
        files.config,
        outputEntry(output, i),
        'layout-output-missing',
        `'${output.name}' is not listed in ${files.layout} outputs`,
      ),
    )
  })
  return found
}

const CLAUSE_PARAM_TYPES: readonly string[] = ['Boolean', 'Choice', 'EditChoice']

/** Values a clause may test an input against, or undefined when they cannot be known here. */
const allowedClauseValues = (param: Param | undefined): readonly string[] | undefined => {
  if (param === undefined) return undefined
  if (param.type === 'Boolean') return ['true', 'false', '']
  if (param.type !== 'Choice' && param.type !== 'EditChoice') return undefined
  const validValues = param.validValues ?? []
  if (validValues.length === 0 || validValues.some((v) => SPECIAL_VALUE.test(v))) return undefined
  // '' is allowed: `x not in ('')` is the "always" idiom.
  return [...validValues, '']
}

/**
 * Checks one display clause. `before` is the placement position the clause sits at for inputs
 * (references must come earlier), or undefined for outputs (any layout input will do).
 */
const checkClause = (
  ctx: LayoutContext,
  file: string,
  entry: string,
  display: string,
  before: number | undefined,
): { problems: ContractProblem[]; clause?: DisplayClause } => {
  const parsed = parseDisplayClause(display)
  if (!parsed.ok)
    return { problems: [problem(file, entry, 'display-clause-syntax', `display "${display}": ${parsed.reason}`)] }
  const problems: ContractProblem[] = []
  for (const name of referencedInputs(parsed.clause)) {
    const position = ctx.positionOf.get(name)
    if (position === undefined) {
      const why = ctx.paramsByName.has(name) ? 'is a param but not placed in the layout' : 'is not a layout input'
      problems.push(
        problem(file, entry, 'display-clause-unknown-input', `display "${display}" references '${name}', which ${why}`),
      )
    } else if (before !== undefined && position >= before) {
      problems.push(
        problem(
          file,
          entry,
          'display-clause-order',
          `display "${display}" references '${name}', which is not placed before this input`,
        ),
      )
    }
  }
  for (const test of memberships(parsed.clause)) {
    const tested = ctx.paramsByName.get(test.input)
    if (tested !== undefined && !CLAUSE_PARAM_TYPES.includes(tested.type)) {
      problems.push(
        problem(
          file,
          entry,
          'display-clause-param-type',
          `display "${display}" tests '${test.input}', a ${tested.type}; only Boolean and Choice/EditChoice inputs can be tested`,
        ),
      )
      continue
    }
    const allowed = allowedClauseValues(ctx.paramsByName.get(test.input))
    if (allowed === undefined) continue
    const invalid = test.values.filter((v) => !allowed.includes(v))
    if (invalid.length > 0)
      problems.push(
        problem(
          file,
          entry,
          'display-clause-value',
          `display "${display}" tests '${test.input}' against ${quoted(invalid)}, not among its values (${quoted(allowed.filter((v) => v !== ''))})`,
        ),
      )
  }
  return { problems, clause: parsed.clause }
}

const checkDisplayClauses = (
  ctx: LayoutContext,
): { problems: ContractProblem[]; outputClauses: (DisplayClause | undefined)[] } => {
  const problems: ContractProblem[] = []
  for (const placed of ctx.placements) {
    if (placed.parameter.display === undefined) continue
    problems.push(
      ...checkClause(ctx, ctx.files.layout, placed.entry, placed.parameter.display, placed.position).problems,
    )
  }
  // Parsed clause per layout output index (undefined: none, or it did not parse), for the per-source check.
  const outputClauses = ctx.layout.outputs.map((output: LayoutOutput, k) => {
    if (output.display === undefined) return undefined
    const checked = checkClause(ctx, ctx.files.layout, `outputs[${k}] '${output.name}'`, output.display, undefined)
    problems.push(...checked.problems)
    return checked.clause
  })
  return { problems, outputClauses }
}

const checkSources = (ctx: LayoutContext, sources: readonly SourceOutputs[]): ContractProblem[] => {
  const { config, files } = ctx
  const found: ContractProblem[] = []
  const ids = sources.map((s) => s.id)

  const paramIndex = config.params.findIndex((p) => p.name === SOURCES_PARAM)
  const param = config.params[paramIndex]
  if (param === undefined) {
    found.push(
      problem(
        files.config,
        `params '${SOURCES_PARAM}'`,
        'sources-param',
        `a MultiChoice param '${SOURCES_PARAM}' listing the source ids is required`,
      ),
    )
  } else {
    const entry = paramEntry(param, paramIndex)
    if (param.type !== 'MultiChoice')
      found.push(
        problem(files.config, entry, 'sources-param', `must be a MultiChoice, not ${JSON.stringify(param.type)}`),
      )
    const validValues = param.validValues ?? []
    const missing = ids.filter((id) => !validValues.includes(id))
    const unknown = validValues.filter((v) => !ids.includes(v))
    if (missing.length > 0 || unknown.length > 0) {
      const parts = [
        missing.length > 0 ? `missing source ids ${quoted(missing)}` : '',
        unknown.length > 0 ? `unknown source ids ${quoted(unknown)}` : '',
      ]
      found.push(
        problem(
          files.config,
          entry,
          'sources-param-values',
          `validValues must be the registered source ids: ${parts.filter(Boolean).join('; ')}`,
        ),
      )
    }
  }

  const declared = new Set(config.playbook.outputVariables.map((o) => o.name))
  const expected = (source: SourceOutputs): string[] => [
    ...source.outputs.map(({ key }) => `enrich.results.${source.id}.${key}`),
    ...(source.kind === 'vendor' ? [`enrich.response.${source.id}.json`] : []),
  ]
  for (const source of sources) {
    for (const name of expected(source)) {
      if (!declared.has(name))
        found.push(
          problem(
            files.config,
            `playbook.outputVariables '${name}'`,
            'source-output-declared',
            `source '${source.id}' publishes '${name}' but it is not declared`,
          ),
        )
    }
  }

  const sourceOf = (name: string): SourceOutputs | undefined =>
    sources.find((s) => name.startsWith(`enrich.results.${s.id}.`) || name.startsWith(`enrich.response.${s.id}.`))
  config.playbook.outputVariables.forEach((output, i) => {
    const source = sourceOf(output.name)
    if (source === undefined) return
    if (!expected(source).includes(output.name))
      found.push(
        problem(
          files.config,
          outputEntry(output, i),
          'source-output-owned',
          `'${output.name}' is not among source '${source.id}' outputs (${quoted(expected(source))})`,
        ),
      )
  })
  return found
}

/**
 * Every problem with the contract, in file order within each rule group. `sources` (the registry's ids
 * and published fact keys) turns on the per-source checks.
 */
export const validateContract = (
  config: AppConfig,
  layout: Layout,
  files: ContractFiles,
  sources?: readonly SourceOutputs[],
): ContractProblem[] => {
  const shapeProblems = checkShape(config, layout, files)
  if (shapeProblems.length > 0) return shapeProblems

  const paramsByName = new Map<string, Param>()
  for (const param of config.params) if (!paramsByName.has(param.name)) paramsByName.set(param.name, param)
  const placements = placementsInDisplayOrder(layout)
  const positionOf = new Map<string, number>()
  for (const placed of placements)
    if (!positionOf.has(placed.parameter.name)) positionOf.set(placed.parameter.name, placed.position)
  const ctx: LayoutContext = { config, layout, files, paramsByName, placements, positionOf }

  const clauses = checkDisplayClauses(ctx)
  return [
    ...checkConfig(config, files.config),
    ...checkParams(config.params, files.config),
    ...checkOutputs(config.playbook.outputVariables, files.config),
    ...checkSectionsAndInputs(ctx),
    ...checkLayoutOutputs(ctx),
    ...clauses.problems,
    ...(sources === undefined ? [] : checkSources(ctx, sources)),
  ]
}
