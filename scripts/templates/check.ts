/**
 * Checks a .pbx template against the contract (app.config.json): the export shape, the step graph, every
 * variable reference (declared, with that type, by a step upstream or a trigger), and for our component and
 * the steps that run it: inputs are the app's params, outputs are the contract's outputs with the same types.
 */
import type { AppConfig, Param } from '../../src/contract/types.js'
import { PLAYBOOK_DATA_TYPES } from '../../src/contract/types.js'
import { INDICATOR_TYPES } from '../../src/indicators/types.js'
import { checkGraph, jobNode, triggerNode, type NodeKey, type StepGraph } from './graph.js'
import type { PbxExport, PbxJob, PbxTrigger } from './pbx.js'
import { ProblemList, type TemplateProblem } from './problems.js'
import { inputDataType } from './component.js'
import { checkShape, declaredVariables, pipeInputs, pipeOutputs } from './shape.js'
import { findVariableReferences, stringsIn, type PlaybookVariableReference } from './variables.js'

const DATA_TYPES: readonly string[] = PLAYBOOK_DATA_TYPES
const variableKey = (name: string, type: string): string => `${name}!${type}`

/** What the checks need from the contract, indexed once. */
interface ContractView {
  readonly params: ReadonlyMap<string, Param>
  readonly outputs: ReadonlySet<string>
  /** The first name segment all outputs share ("enrich"): any variable under it must be a contract output. */
  readonly prefix: string | undefined
  readonly delimiter: string
}

const viewOf = (config: AppConfig): ContractView => {
  const heads = new Set(config.playbook.outputVariables.map((o) => o.name.split('.')[0]))
  return {
    params: new Map(config.params.map((p) => [p.name, p])),
    outputs: new Set(config.playbook.outputVariables.map((o) => variableKey(o.name, o.type))),
    prefix: heads.size === 1 ? [...heads][0] : undefined,
    delimiter: config.listDelimiter,
  }
}

const inNamespace = (contract: ContractView, name: string): boolean =>
  contract.prefix !== undefined && name.startsWith(`${contract.prefix}.`)

const jobWhere = (pbx: PbxExport, job: PbxJob): string => `jobList[${pbx.jobList.indexOf(job)}] '${job.name}'`
const triggerWhere = (pbx: PbxExport, t: PbxTrigger): string =>
  `playbookTriggerList[${pbx.playbookTriggerList.indexOf(t)}] '${t.name}'`

/** One playbook variable reference, read from `context` (a step, or a trigger's own fields). */
const checkReference = (
  ref: PlaybookVariableReference,
  context: NodeKey | undefined,
  where: string,
  pbx: PbxExport,
  graph: StepGraph,
  contract: ContractView,
  problems: ProblemList,
): void => {
  const key = variableKey(ref.name, ref.type)
  if (!DATA_TYPES.includes(ref.type))
    problems.add(where, 'unknown-type', `${ref.text}: '${ref.type}' is not a playbook data type`)
  if (inNamespace(contract, ref.name) && !contract.outputs.has(key)) {
    problems.add(where, 'not-a-contract-output', `${ref.text}: ${key} is not an output app.config.json declares`)
  }
  if (ref.provider === 'Global') {
    if (!ref.name.startsWith('gbl.'))
      problems.add(where, 'unknown-global', `${ref.text}: global variables are named gbl.*`)
    return
  }
  const source =
    ref.provider === 'App'
      ? pbx.jobList.find((j) => j.id === ref.id)
      : pbx.playbookTriggerList.find((t) => t.id === ref.id)
  if (source === undefined) {
    problems.add(
      where,
      'unknown-source',
      `${ref.text}: no ${ref.provider === 'App' ? 'step' : 'trigger'} with id ${ref.id} in this export`,
    )
    return
  }
  const declared = declaredVariables(source.outputVariables).some((d) => variableKey(d.name, d.type) === key)
  if (!declared) problems.add(where, 'undeclared-variable', `${ref.text}: '${source.name}' does not declare ${key}`)
  const node = ref.provider === 'App' ? jobNode(ref.id) : triggerNode(ref.id)
  if (context !== undefined && context.startsWith('job:') && !graph.upstreamOf(context).has(node)) {
    problems.add(
      where,
      'not-upstream',
      `${ref.text}: '${source.name}' does not run before this step, so its variables are not set yet`,
    )
  }
}

const checkReferences = (pbx: PbxExport, graph: StepGraph, contract: ContractView, problems: ProblemList): void => {
  const scan = (value: unknown, context: NodeKey | undefined, where: string): void => {
    for (const text of stringsIn(value)) {
      for (const ref of findVariableReferences(text)) {
        if (ref.kind === 'malformed') {
          problems.add(
            where,
            'malformed-variable',
            `'${ref.text}' is not a variable an export holds (#Provider:<id>:<name>!<Type>, or \${ORGANIZATION:<TYPE>:<name>})`,
          )
        } else if (ref.kind === 'playbook') checkReference(ref, context, where, pbx, graph, contract, problems)
      }
    }
  }
  scan(pbx.name, undefined, '(top level).name')
  scan(pbx.description, undefined, '(top level).description')
  for (const job of pbx.jobList) {
    for (const p of job.jobParameterList)
      scan(p.value, jobNode(job.id), `${jobWhere(pbx, job)} param '${p.appCatalogItemParameter.paramName}'`)
    declaredVariables(job.outputVariables).forEach((d) => {
      if (inNamespace(contract, d.name) && !contract.outputs.has(variableKey(d.name, d.type))) {
        problems.add(
          `${jobWhere(pbx, job)}.outputVariables`,
          'not-a-contract-output',
          `declares ${variableKey(d.name, d.type)}, which app.config.json does not`,
        )
      }
    })
  }
  for (const trigger of pbx.playbookTriggerList) {
    for (const [key, value] of Object.entries(trigger))
      scan(value, triggerNode(trigger.id), `${triggerWhere(pbx, trigger)}.${key}`)
  }
}

const checkTriggerKinds = (pbx: PbxExport, problems: ProblemList): void => {
  const pipeConfigs = pbx.playbookTriggerList.filter((t) => t.type === 'PipeConfig')
  if (pbx.type === 'Component' && (pbx.playbookTriggerList.length !== 1 || pipeConfigs.length !== 1)) {
    problems.add('playbookTriggerList', 'component-trigger', 'a component has exactly one trigger, of type PipeConfig')
  }
  if (pbx.type === 'Playbook') {
    if (pbx.playbookTriggerList.length === 0)
      problems.add('playbookTriggerList', 'no-trigger', 'a playbook needs a trigger')
    if (pipeConfigs.length > 0)
      problems.add('playbookTriggerList', 'component-trigger', 'PipeConfig triggers belong to components')
  }
  for (const t of pbx.playbookTriggerList.filter((t) => t.type === 'UserAction')) {
    for (const type of (t.userActionTypes ?? '').split(',').map((s) => s.trim())) {
      if (!(INDICATOR_TYPES as readonly string[]).includes(type)) {
        problems.add(
          triggerWhere(pbx, t),
          'user-action-type',
          `'${type}' is not an indicator type the app enriches (${INDICATOR_TYPES.join(', ')})`,
        )
      }
    }
  }
}

/** A component's inputs are the app's params and its outputs the contract's outputs: same names, same types. */
const checkComponentContract = (pbx: PbxExport, contract: ContractView, problems: ProblemList): void => {
  const trigger = pbx.playbookTriggerList.find((t) => t.type === 'PipeConfig')
  if (trigger === undefined) return
  const where = triggerWhere(pbx, trigger)
  const inputs = pipeInputs(trigger.pipeInputParams)
  const seen = new Set<string>()
  for (const input of inputs) {
    const at = `${where} input '${input.name}'`
    if (seen.has(input.name)) problems.add(at, 'duplicate-input', 'declared twice')
    seen.add(input.name)
    const param = contract.params.get(input.name)
    if (param === undefined) {
      problems.add(at, 'unknown-input', 'is not a param of app.config.json')
      continue
    }
    if (input.dataType !== inputDataType(param))
      problems.add(
        at,
        'input-type',
        `dataType ${input.dataType}, but the param is ${param.type} (${inputDataType(param)} as an input)`,
      )
    if (!(param.playbookDataType ?? ['String']).includes(input.playbookDataType)) {
      problems.add(at, 'input-type', `playbookDataType ${input.playbookDataType} is not one the param accepts`)
    }
    if (input.required !== (param.required ?? false))
      problems.add(at, 'input-required', `required ${input.required}, but the param says ${param.required ?? false}`)
    if (input.encrypted !== (param.encrypt ?? false))
      problems.add(at, 'input-encrypted', `encrypted ${input.encrypted}, but the param says ${param.encrypt ?? false}`)
    if (input.defaultValue !== (param.default === undefined ? undefined : String(param.default))) {
      problems.add(
        at,
        'input-default',
        `defaultValue ${JSON.stringify(input.defaultValue)}, but the param's default is ${JSON.stringify(param.default)}`,
      )
    }
    if (param.type === 'Choice' && input.validValuesList.join('|') !== (param.validValues ?? []).join('|')) {
      problems.add(
        at,
        'input-values',
        `offers ${input.validValuesList.join(', ')}; the param allows ${(param.validValues ?? []).join(', ')}`,
      )
    }
  }
  for (const name of contract.params.keys())
    if (!seen.has(name)) problems.add(where, 'missing-input', `app.config.json param '${name}' is not an input`)

  const exposed = new Set(declaredVariables(trigger.outputVariables).map((d) => variableKey(d.name, d.type)))
  const expected = new Set(inputs.map((i) => variableKey(i.name, i.playbookDataType)))
  for (const key of expected)
    if (!exposed.has(key))
      problems.add(
        `${where}.outputVariables`,
        'input-not-exposed',
        `input ${key} is not declared for the steps to read`,
      )
  for (const key of exposed)
    if (!expected.has(key))
      problems.add(`${where}.outputVariables`, 'exposed-not-input', `${key} is declared but is no input`)

  const outputs = new Set<string>()
  for (const output of pipeOutputs(trigger.pipeOutputParams)) {
    const at = `${where} output '${output.key}'`
    const refs = findVariableReferences(output.value)
    const ref = refs[0]
    if (refs.length !== 1 || ref?.kind !== 'playbook' || ref.text !== output.value.trim()) {
      problems.add(at, 'output-value', 'must be filled by exactly one playbook variable (its type is the output type)')
      continue
    }
    const key = variableKey(output.key, ref.type)
    if ([...outputs].some((k) => k.startsWith(`${output.key}!`)))
      problems.add(at, 'duplicate-output', `'${output.key}' declared twice (a component output key is declared once)`)
    outputs.add(key)
    if (!contract.outputs.has(key))
      problems.add(at, 'not-a-contract-output', `${key} is not an output app.config.json declares`)
  }
  for (const key of contract.outputs)
    if (!outputs.has(key)) problems.add(where, 'missing-output', `contract output ${key} is not an output`)
}

/** A literal value the platform would reject for the param's type. */
const badLiteral = (param: Param, value: string, delimiter: string): string | undefined => {
  if (findVariableReferences(value).length > 0) return undefined
  const allowed = (param.validValues ?? []).filter((v) => !v.startsWith('${'))
  if (param.type === 'Boolean' && value !== 'true' && value !== 'false') return `'${value}' is not true or false`
  if (param.type === 'Choice' && !allowed.includes(value)) return `'${value}' is not one of ${allowed.join(', ')}`
  if (param.type === 'MultiChoice') {
    const wrong = value.split(delimiter).filter((v) => !allowed.includes(v))
    if (wrong.length > 0) return `${wrong.map((v) => `'${v}'`).join(', ')} not among ${allowed.join(', ')}`
  }
  return undefined
}

/**
 * A step that runs the component: sets only app params (valid values, every required one), reads only contract outputs.
 */
const checkComponentStep = (pbx: PbxExport, job: PbxJob, contract: ContractView, problems: ProblemList): void => {
  const where = jobWhere(pbx, job)
  const pipe = (pbx.exportablePipes ?? []).find((p) => p.definitionVersion === job.appCatalogItem.programName)
  if (pipe === undefined) {
    problems.add(
      where,
      'unknown-component',
      `runs component ${job.appCatalogItem.programName}, which is not among exportablePipes`,
    )
    return
  }
  const pipeTrigger = pipe.playbookTriggerList.find((t) => t.type === 'PipeConfig')
  const inputs = new Set(pipeInputs(pipeTrigger?.pipeInputParams).map((i) => i.name))
  const pipeOuts = new Set(
    pipeOutputs(pipeTrigger?.pipeOutputParams).flatMap((o) => {
      const ref = findVariableReferences(o.value)[0]
      return ref?.kind === 'playbook' ? [variableKey(o.key, ref.type)] : []
    }),
  )
  const set = new Map<string, string>()
  job.jobParameterList.forEach((p, i) => {
    const name = p.appCatalogItemParameter.paramName
    const at = `${where}.jobParameterList[${i}] '${name}'`
    if (set.has(name)) problems.add(at, 'duplicate-param', 'set twice')
    set.set(name, p.value ?? '')
    const param = contract.params.get(name)
    if (param === undefined) return problems.add(at, 'unknown-param', 'is not a param of app.config.json')
    if (!inputs.has(name)) problems.add(at, 'not-a-component-input', `the component '${pipe.name}' has no such input`)
    const wrong = badLiteral(param, p.value ?? '', contract.delimiter)
    if (wrong !== undefined && p.value !== undefined) problems.add(at, 'param-value', wrong)
  })
  for (const param of contract.params.values()) {
    if (param.required && !set.get(param.name))
      problems.add(where, 'missing-required-param', `required param '${param.name}' is not set`)
  }
  for (const d of declaredVariables(job.outputVariables)) {
    const key = variableKey(d.name, d.type)
    if (!contract.outputs.has(key))
      problems.add(
        `${where}.outputVariables`,
        'not-a-contract-output',
        `${key} is not an output app.config.json declares`,
      )
    else if (!pipeOuts.has(key))
      problems.add(`${where}.outputVariables`, 'not-a-component-output', `${key} is not an output of '${pipe.name}'`)
  }
}

const checkPbx = (pbx: PbxExport, contract: ContractView, problems: ProblemList): void => {
  const graph = checkGraph(pbx, problems)
  checkTriggerKinds(pbx, problems)
  checkReferences(pbx, graph, contract, problems)
  if (pbx.type === 'Component') checkComponentContract(pbx, contract, problems)
  for (const job of pbx.jobList)
    if (job.appCatalogItem.pipeRunLevel === true) checkComponentStep(pbx, job, contract, problems)
  ;(pbx.exportablePipes ?? []).forEach((pipe, i) =>
    checkPbx(pipe, contract, problems.at(`exportablePipes[${i}] '${pipe.name}'`)),
  )
}

/** Every problem of one parsed .pbx (`value` is the parsed JSON) against the contract; empty when it is good. */
export const checkTemplate = (value: unknown, config: AppConfig, file: string): TemplateProblem[] => {
  const problems = new ProblemList(file)
  if (checkShape(value, problems)) checkPbx(value, viewOf(config), problems)
  return problems.items
}

/** The .pbx text form: invalid JSON is a problem like any other. */
export const checkTemplateText = (text: string, config: AppConfig, file: string): TemplateProblem[] => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return [{ file, where: '(file)', rule: 'json-syntax', message: `invalid JSON: ${(error as Error).message}` }]
  }
  return checkTemplate(value, config, file)
}

/**
 * Names of the org variables (${ORGANIZATION:TYPE:name}) a template reads, embedded components included: the README
 * must tell users to set each.
 */
export const tcVariablesIn = (value: unknown): string[] => {
  const names = stringsIn(value).flatMap((text) =>
    findVariableReferences(text).flatMap((r) => (r.kind === 'org' ? [`${r.type}:${r.name}`] : [])),
  )
  return [...new Set(names)].sort()
}
