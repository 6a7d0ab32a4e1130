/**
 * Structural check of a .pbx export: top-level keys, steps, triggers and links of the right shape, and the
 * JSON-in-a-string fields parseable into what they should hold. Only a value that passes is looked at further.
 */
import { PLAYBOOK_DATA_TYPES } from '../../src/contract/types.js'
import { COMPONENT_INPUT_DATA_TYPES, EXPORT_STRUCTURE, EXPORT_TYPES, type KeySet } from './export-structure.js'
import type { PbxExport, PipeInputParam, PipeOutputParam, VariableDeclaration } from './pbx.js'
import type { ProblemList } from './problems.js'

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)
const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0

/** Drift from real exports: a key every real export of this kind carries is missing, or one none carries is there. */
const checkKeys = (o: Obj, keys: KeySet, where: string, problems: ProblemList): void => {
  for (const key of keys.required)
    if (!(key in o)) problems.add(where, 'export-drift', `missing '${key}', which every current export carries`)
  for (const key of Object.keys(o)) {
    if (!(keys.required as readonly string[]).includes(key) && !(keys.optional as readonly string[]).includes(key)) {
      problems.add(where, 'export-drift', `'${key}' is in no current export`)
    }
  }
}
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']
const DATA_TYPES: readonly string[] = PLAYBOOK_DATA_TYPES

/** Parses a JSON-in-a-string list field; undefined (with a problem) when it is not a JSON array. */
const parseJsonList = (text: unknown, where: string, problems: ProblemList): unknown[] | undefined => {
  if (typeof text !== 'string') {
    problems.add(where, 'json-text', 'must be a string holding a JSON array')
    return undefined
  }
  try {
    const value: unknown = JSON.parse(text)
    if (Array.isArray(value)) return value
  } catch {
    // reported below
  }
  problems.add(where, 'json-text', `must hold a JSON array, not ${JSON.stringify(text.slice(0, 40))}`)
  return undefined
}

const checkDeclarations = (text: unknown, where: string, problems: ProblemList): void => {
  const list = parseJsonList(text, where, problems)
  list?.forEach((d, i) => {
    if (isObj(d)) checkKeys(d, EXPORT_STRUCTURE.declaration, `${where}[${i}]`, problems)
    if (!isObj(d) || typeof d['name'] !== 'string' || d['name'] === '' || typeof d['type'] !== 'string') {
      problems.add(`${where}[${i}]`, 'declaration-shape', 'a declared variable needs a name and a type')
    } else if (!DATA_TYPES.includes(d['type'])) {
      problems.add(
        `${where}[${i}]`,
        'unknown-type',
        `'${d['type']}' is not a playbook data type (${DATA_TYPES.join(', ')})`,
      )
    }
  })
}

const requireString = (o: Obj, key: string, where: string, problems: ProblemList, nonEmpty = true): void => {
  if (typeof o[key] !== 'string' || (nonEmpty && o[key] === ''))
    problems.add(where, 'field-type', `'${key}' must be a${nonEmpty ? ' non-empty' : ''} string`)
}

const requireNumber = (o: Obj, key: string, where: string, problems: ProblemList): void => {
  if (typeof o[key] !== 'number' || !Number.isFinite(o[key]))
    problems.add(where, 'field-type', `'${key}' must be a number`)
}

const checkJob = (job: unknown, where: string, problems: ProblemList): void => {
  if (!isObj(job)) return problems.add(where, 'job-shape', 'a step must be an object')
  checkKeys(job, EXPORT_STRUCTURE.job, where, problems)
  if (!isId(job['id'])) problems.add(where, 'field-type', "'id' must be a positive integer")
  requireString(job, 'name', where, problems)
  requireNumber(job, 'locationLeft', where, problems)
  requireNumber(job, 'locationTop', where, problems)
  const item = job['appCatalogItem']
  if (!isObj(item)) problems.add(where, 'job-shape', "'appCatalogItem' must be an object")
  else {
    for (const key of ['programName', 'displayName', 'programVersion'])
      requireString(item, key, `${where}.appCatalogItem`, problems)
    if (item['pipeRunLevel'] !== undefined && typeof item['pipeRunLevel'] !== 'boolean') {
      problems.add(`${where}.appCatalogItem`, 'field-type', "'pipeRunLevel' must be a boolean")
    }
  }
  const params = job['jobParameterList']
  if (!Array.isArray(params)) problems.add(where, 'job-shape', "'jobParameterList' must be an array")
  else {
    params.forEach((p, i) => {
      const at = `${where}.jobParameterList[${i}]`
      const named =
        isObj(p) && isObj(p['appCatalogItemParameter']) && typeof p['appCatalogItemParameter']['paramName'] === 'string'
      if (!named) problems.add(at, 'param-shape', 'needs appCatalogItemParameter.paramName')
      else if (p['value'] !== undefined && typeof p['value'] !== 'string')
        problems.add(at, 'param-shape', "'value' must be a string")
    })
  }
  if (job['outputVariables'] !== undefined)
    checkDeclarations(job['outputVariables'], `${where}.outputVariables`, problems)
}

const checkPipeInputs = (text: unknown, where: string, problems: ProblemList): void => {
  parseJsonList(text, where, problems)?.forEach((p, i) => {
    const at = `${where}[${i}]`
    if (!isObj(p)) return problems.add(at, 'input-shape', 'an input must be an object')
    checkKeys(p, EXPORT_STRUCTURE.pipeInput, at, problems)
    if (!COMPONENT_INPUT_DATA_TYPES.includes(p['dataType'] as string)) {
      problems.add(
        at,
        'export-drift',
        `dataType ${JSON.stringify(p['dataType'])} is in no real component (${COMPONENT_INPUT_DATA_TYPES.join(', ')})`,
      )
    }
    for (const key of ['name', 'label', 'dataType', 'playbookDataType']) requireString(p, key, at, problems)
    for (const key of ['required', 'encrypted', 'hidden'])
      if (typeof p[key] !== 'boolean') problems.add(at, 'field-type', `'${key}' must be a boolean`)
    if (!Array.isArray(p['validValuesList']) || !p['validValuesList'].every((v) => typeof v === 'string')) {
      problems.add(at, 'field-type', "'validValuesList' must be an array of strings")
    }
  })
}

const checkPipeOutputs = (text: unknown, where: string, problems: ProblemList): void => {
  parseJsonList(text, where, problems)?.forEach((p, i) => {
    const at = `${where}[${i}]`
    if (!isObj(p)) return problems.add(at, 'output-shape', 'an output must be an object')
    for (const key of ['key', 'value']) requireString(p, key, at, problems)
  })
}

const checkTrigger = (trigger: unknown, where: string, problems: ProblemList): void => {
  if (!isObj(trigger)) return problems.add(where, 'trigger-shape', 'a trigger must be an object')
  checkKeys(trigger, EXPORT_STRUCTURE.trigger, where, problems)
  if (!isId(trigger['id'])) problems.add(where, 'field-type', "'id' must be a positive integer")
  for (const key of ['name', 'type', 'eventType']) requireString(trigger, key, where, problems)
  requireNumber(trigger, 'locationLeft', where, problems)
  requireNumber(trigger, 'locationTop', where, problems)
  checkDeclarations(trigger['outputVariables'], `${where}.outputVariables`, problems)
  if (trigger['type'] === 'PipeConfig') {
    checkPipeInputs(trigger['pipeInputParams'], `${where}.pipeInputParams`, problems)
    checkPipeOutputs(trigger['pipeOutputParams'], `${where}.pipeOutputParams`, problems)
  }
  if (trigger['type'] === 'UserAction') requireString(trigger, 'userActionTypes', where, problems)
}

const checkLink = (link: unknown, where: string, problems: ProblemList): void => {
  if (!isObj(link)) return problems.add(where, 'link-shape', 'a link must be an object')
  checkKeys(link, EXPORT_STRUCTURE.link, where, problems)
  if (link['type'] !== 'Pass' && link['type'] !== 'Fail')
    problems.add(where, 'link-shape', "'type' must be Pass or Fail")
  if (typeof link['isCircularOnTarget'] !== 'boolean')
    problems.add(where, 'field-type', "'isCircularOnTarget' must be a boolean")
  const ends = (job: string, trigger: string): number =>
    [link[job], link[trigger]].filter((v) => v !== undefined).length
  if (ends('sourceJobId', 'sourceTriggerId') !== 1)
    problems.add(where, 'link-shape', 'needs exactly one of sourceJobId, sourceTriggerId')
  if (ends('targetJobId', 'targetTriggerId') !== 1)
    problems.add(where, 'link-shape', 'needs exactly one of targetJobId, targetTriggerId')
  for (const key of ['sourceJobId', 'sourceTriggerId', 'targetJobId', 'targetTriggerId']) {
    if (link[key] !== undefined && !isId(link[key]))
      problems.add(where, 'field-type', `'${key}' must be a positive integer`)
  }
}

const checkList = (
  o: Obj,
  key: string,
  problems: ProblemList,
  each: (item: unknown, where: string, problems: ProblemList) => void,
): void => {
  const list = o[key]
  if (!Array.isArray(list)) return problems.add(key, 'top-level-shape', `'${key}' must be an array`)
  list.forEach((item, i) => each(item, `${key}[${i}]`, problems))
}

/** True when `value` has the export shape; every deviation is added to `problems`. */
export const checkShape = (value: unknown, problems: ProblemList, embedded = false): value is PbxExport => {
  const before = problems.items.length
  if (!isObj(value)) {
    problems.add('(top level)', 'top-level-shape', 'a .pbx export is a JSON object')
    return false
  }
  checkKeys(value, embedded ? EXPORT_STRUCTURE.embeddedComponent : EXPORT_STRUCTURE.topLevel, '(top level)', problems)
  requireString(value, 'name', '(top level)', problems)
  for (const key of ['panX', 'panY', 'zoom', 'roiDollarsPerHour', 'roiMinutes', 'priority'])
    requireNumber(value, key, '(top level)', problems)
  requireString(value, 'description', '(top level)', problems, false)
  requireString(value, 'version', '(top level)', problems)
  if (!EXPORT_TYPES.includes(value['type'] as PbxExport['type'])) {
    problems.add(
      '(top level)',
      'export-drift',
      `'type' must be ${EXPORT_TYPES.join(' or ')} as current exports say (legacy exports said Standard / Pipe)`,
    )
  }
  if (!LOG_LEVELS.includes(value['logLevel'] as string))
    problems.add('(top level)', 'top-level-shape', `'logLevel' must be one of ${LOG_LEVELS.join(', ')}`)
  if (embedded) {
    requireString(value, 'definitionVersion', '(top level)', problems)
    if (value['type'] !== 'Component')
      problems.add('(top level)', 'top-level-shape', 'an exportable pipe must be of type Component')
  }
  checkList(value, 'jobList', problems, checkJob)
  checkList(value, 'playbookTriggerList', problems, checkTrigger)
  checkList(value, 'playbookConnectionList', problems, checkLink)
  checkList(value, 'playbookLabels', problems, () => undefined)
  checkList(value, 'playbookScopeVariables', problems, () => undefined)
  if (!embedded)
    checkList(value, 'exportablePipes', problems, (pipe, where) => checkShape(pipe, problems.at(where), true))
  return problems.items.length === before
}

export const declaredVariables = (text: string | undefined): VariableDeclaration[] =>
  text === undefined ? [] : (JSON.parse(text) as VariableDeclaration[])

export const pipeInputs = (text: string | undefined): PipeInputParam[] =>
  text === undefined ? [] : (JSON.parse(text) as PipeInputParam[])

export const pipeOutputs = (text: string | undefined): PipeOutputParam[] =>
  text === undefined ? [] : (JSON.parse(text) as PipeOutputParam[])
