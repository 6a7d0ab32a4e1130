/**
 * The Playbook Component (.pbx type "Pipe") that makes this service look like a native Playbook app:
 * its PipeConfig trigger declares the app's params as inputs and the contract's outputs as outputs;
 * inside, an HTTP Client step POSTs the inputs to the service's /run and Json Path steps map the reply
 * onto the outputs. Generated from app.config.json so it cannot drift from the contract.
 */
import type { AppConfig, Layout, OutputVariable, Param, PlaybookDataType } from '../contract/types.js'
import { HTTP_CLIENT, HTTP_CLIENT_CONTENT, IF_ELSE, JSON_PATH, LOGGER } from './catalog.js'
import type { PbxExport, PipeInputParam, PipeOutputParam, PbxTrigger } from './pbx.js'
import { declarations, job, jsonText, keyValueList, link } from './steps.js'
import { playbookVariable, tcVariable } from './variables.js'

/** Org variables the component reads: set them once under the org's Variables (README explains). */
export const SERVICE_URL_VARIABLE = 'enrich_service_url'
export const RUN_TOKEN_VARIABLE = 'enrich_run_token'

/** Ids inside the component; the platform assigns its own on import. */
export const COMPONENT_IDS = {
  trigger: 1,
  post: 11,
  readExit: 12,
  exitOk: 13,
  mapStrings: 14,
  mapArrays: 15,
  logFailure: 16,
  fail: 17,
} as const

const EXIT_CODE = 'exit.code'
const EXIT_MESSAGE = 'exit.message'

/** `$.outputs["name"]`: output names hold dots, so they are quoted. */
export const outputPath = (name: string, list: boolean): string => `$.outputs[${JSON.stringify(name)}]${list ? '[*]' : ''}`

/** What the designer shows for the param, and which values it offers. */
const validValues = (param: Param): string[] => {
  if (param.validValues !== undefined) return [...param.validValues]
  if (param.encrypt) return ['${KEYCHAIN}']
  return param.type === 'String' || param.type === 'StringMixed' ? ['${TEXT}'] : []
}

/** A component input has one type; the first (for indicator: String, one indicator) is what a step hands over. */
export const inputType = (param: Param): PlaybookDataType => param.playbookDataType?.[0] ?? 'String'

export const pipeInputParam = (param: Param): PipeInputParam => ({
  name: param.name,
  label: param.label,
  dataType: param.type,
  playbookDataType: inputType(param),
  required: param.required ?? false,
  encrypted: param.encrypt ?? false,
  hidden: param.hidden ?? false,
  hasDollarVariables: false,
  playbookVariable: false,
  validValuesList: validValues(param),
  ...(param.default === undefined ? {} : { default: String(param.default) }),
  ...(param.note === undefined ? {} : { note: param.note }),
})

const triggerInput = (param: Param): string => playbookVariable('Trigger', COMPONENT_IDS.trigger, param.name, inputType(param))

/**
 * The /run body: every param, each filled from the component input of the same name. Values are spliced in as
 * text, so they sit inside JSON quotes; Booleans and MultiChoice then arrive as "true" / "a|b", which /run accepts.
 */
export const runBody = (config: AppConfig): string =>
  JSON.stringify(Object.fromEntries(config.params.map((p) => [p.name, triggerInput(p)])), null, 2)

const byType = (config: AppConfig, type: 'String' | 'StringArray'): OutputVariable[] =>
  config.playbook.outputVariables.filter((o) => o.type === type)

const pipeOutput = (output: OutputVariable): PipeOutputParam => {
  const from = output.type === 'String' ? COMPONENT_IDS.mapStrings : COMPONENT_IDS.mapArrays
  const value = playbookVariable('App', from, output.name, output.type)
  return { key: output.name, value, displayValue: value }
}

/** Inputs in the order the app's layout shows them (its sections by sequence), then those it does not place (hidden). */
export const paramsInLayoutOrder = (config: AppConfig, layout: Layout | undefined): Param[] => {
  if (layout === undefined) return [...config.params]
  const placed = [...layout.inputs].sort((a, b) => a.sequence - b.sequence).flatMap((s) => s.parameters.map((p) => p.name))
  const byName = new Map(config.params.map((p) => [p.name, p]))
  return [...placed.flatMap((name) => byName.get(name) ?? []), ...config.params.filter((p) => !placed.includes(p.name))]
}

const componentTrigger = (config: AppConfig, params: readonly Param[]): PbxTrigger => ({
  id: COMPONENT_IDS.trigger,
  name: 'Component Trigger',
  type: 'PipeConfig',
  eventType: 'External',
  locationLeft: 0,
  locationTop: 0,
  anyOrg: true,
  playbookTriggerFilterList: [],
  outputVariables: declarations(params.map((p) => ({ name: p.name, type: inputType(p) }))),
  pipeInputParams: jsonText(params.map(pipeInputParam)),
  pipeOutputParams: jsonText(config.playbook.outputVariables.map(pipeOutput)),
})

const unsupported = (config: AppConfig): string[] =>
  config.playbook.outputVariables.filter((o) => o.type !== 'String' && o.type !== 'StringArray').map((o) => `${o.name}!${o.type}`)

/** `layout` orders the inputs as the native app shows them; without it they follow app.config.json. */
export const buildComponent = (config: AppConfig, layout?: Layout): PbxExport => {
  const odd = unsupported(config)
  if (odd.length > 0) throw new Error(`the component maps String and StringArray outputs only, not ${odd.join(', ')}`)
  const ids = COMPONENT_IDS
  const content = playbookVariable('App', ids.post, HTTP_CLIENT_CONTENT.name, HTTP_CLIENT_CONTENT.type)
  const exitCode = playbookVariable('App', ids.readExit, EXIT_CODE, 'String')
  const exitMessage = playbookVariable('App', ids.readExit, EXIT_MESSAGE, 'String')
  const strings = byType(config, 'String')
  const arrays = byType(config, 'StringArray')
  const jsonPathParams = (asString: string, asArray: string, source: string) => ({
    json_content: source,
    column_mapping_as_string: asString,
    column_mapping: asArray,
    null_missing_leaf: 'true',
  })
  return {
    name: config.displayName,
    type: 'Pipe',
    description: `${config.note ?? config.displayName} Runs on the enrichment service: POSTs the inputs to its /run and maps the reply onto the outputs.`,
    logLevel: 'WARN',
    version: config.programVersion.split('.').slice(0, 2).join('.'),
    jobList: [
      job({
        id: ids.post,
        name: 'POST /run',
        app: HTTP_CLIENT,
        at: [230, 0],
        params: {
          url: `${tcVariable('TEXT', SERVICE_URL_VARIABLE)}/run`,
          http_method: 'POST',
          headers: keyValueList([
            { key: 'Content-Type', value: 'application/json' },
            { key: 'Accept', value: 'application/json' },
            { key: 'Authorization', value: `Bearer ${tcVariable('KEYCHAIN', RUN_TOKEN_VARIABLE)}` },
          ]),
          body: runBody(config),
          params: '[]',
          advanced: '[]',
          multipart: '[]',
          urlencode_body: 'false',
          exclude_null_parameters: 'false',
          // A 4xx/5xx (bad input, wrong token, service down) fails the step, and so the component.
          fail_on_error: 'true',
          verify_ssl: 'true',
          proxies_enabled: 'false',
        },
        outputs: [HTTP_CLIENT_CONTENT],
      }),
      job({
        id: ids.readExit,
        name: 'Read exit status',
        app: JSON_PATH,
        at: [460, 0],
        params: jsonPathParams(
          keyValueList([
            { key: EXIT_CODE, value: '$.exitCode' },
            { key: EXIT_MESSAGE, value: '$.exitMessage' },
          ]),
          '[]',
          content,
        ),
        outputs: [
          { name: EXIT_CODE, type: 'String' },
          { name: EXIT_MESSAGE, type: 'String' },
        ],
      }),
      job({
        id: ids.exitOk,
        name: 'exitCode is 0?',
        app: IF_ELSE,
        at: [690, 0],
        params: { operand_1: exitCode, operator: 'equals', operand_2: '0', match_case: 'false', as_numeric: 'false' },
      }),
      job({
        id: ids.mapStrings,
        name: 'Map String outputs',
        app: JSON_PATH,
        at: [920, 0],
        params: jsonPathParams(keyValueList(strings.map((o) => ({ key: o.name, value: outputPath(o.name, false) }))), '[]', content),
        outputs: strings,
      }),
      job({
        id: ids.mapArrays,
        name: 'Map StringArray outputs',
        app: JSON_PATH,
        at: [1150, 0],
        params: jsonPathParams('[]', keyValueList(arrays.map((o) => ({ key: o.name, value: outputPath(o.name, true) }))), content),
        outputs: arrays,
      }),
      job({
        id: ids.logFailure,
        name: 'Log the exit message',
        app: LOGGER,
        at: [690, 150],
        params: { logging: 'ERROR', log_message: `${config.displayName} failed (exitCode ${exitCode}): ${exitMessage}` },
      }),
      // No app "fails on purpose"; a Json Path that must find a field in {} does, which fails the component
      // the way a native app exiting 1 fails its step (the message is in the log line before).
      job({
        id: ids.fail,
        name: 'Fail the component',
        app: JSON_PATH,
        at: [920, 150],
        params: {
          json_content: '{}',
          column_mapping_as_string: keyValueList([{ key: 'failed', value: '$.exitCode' }]),
          column_mapping: '[]',
          null_missing_leaf: 'false',
        },
        outputs: [{ name: 'failed', type: 'String' }],
      }),
    ],
    playbookTriggerList: [componentTrigger(config, paramsInLayoutOrder(config, layout))],
    playbookConnectionList: [
      link('Pass', { trigger: ids.trigger }, { job: ids.post }),
      link('Pass', { job: ids.post }, { job: ids.readExit }),
      link('Pass', { job: ids.readExit }, { job: ids.exitOk }),
      link('Pass', { job: ids.exitOk }, { job: ids.mapStrings }),
      link('Fail', { job: ids.exitOk }, { job: ids.logFailure }),
      link('Pass', { job: ids.logFailure }, { job: ids.fail }),
      link('Pass', { job: ids.mapStrings }, { job: ids.mapArrays }),
      link('Pass', { job: ids.mapArrays }, { trigger: ids.trigger }),
    ],
    playbookLabels: [],
    exportablePipes: [],
  }
}
