/**
 * The Playbook Component (export type "Component") that puts this service into the designer: its PipeConfig
 * trigger declares the contract's params as inputs and its outputs as outputs (one type each); inside, an HTTP
 * Client step POSTs to the service's /run (the inputs as whole values: query params, vendor keys in headers) and a
 * JMESPath step maps the reply onto the outputs. A failed
 * run answers a non-2xx status, so the HTTP Client's own fail_on_error fails the step, and with it the component.
 * Generated from app.config.json so it cannot drift from the contract.
 */
import type { AppConfig, Layout, OutputVariable, Param, PlaybookDataType } from '../../src/contract/types.js'
import { HTTP_CLIENT, HTTP_CLIENT_CONTENT, JMESPATH } from './catalog.js'
import { exportHeader } from './export-structure.js'
import { keyHeaderTitle } from '../../src/contract/request-params.js'
import type { KeyValueRow, PbxExport, PipeInputParam, PipeOutputParam, PbxTrigger } from './pbx.js'
import { declarations, job, jsonText, keyValueList, link } from './steps.js'
import { orgVariable, playbookVariable } from './variables.js'

/** Org variables the component reads: set them once under the org's Variables (README explains). */
export const SERVICE_URL_VARIABLE = 'enrich_service_url'
/** Holds the whole Authorization header value, `Bearer <RUN_TOKEN>`: exports put a keychain variable in whole. */
export const RUN_TOKEN_VARIABLE = 'enrich_run_token'

/** Ids inside the component; the platform assigns its own on import. */
export const COMPONENT_IDS = {
  trigger: 1,
  post: 11,
  map: 12,
} as const

/** The JMESPath expression that reads an output from the reply: its name is its path under `outputs`. */
export const outputExpression = (name: string): string => `outputs.${name}`

/**
 * Input data types real component exports use (String, Boolean, Choice, KeyValueList): a MultiChoice param
 * becomes a String input that takes the `|`-joined value the service accepts.
 */
export const inputDataType = (param: Param): string =>
  param.type === 'MultiChoice' || param.type === 'StringMixed' ? 'String' : param.type

/** What the designer offers for the input. */
const validValues = (param: Param): string[] => {
  if (param.encrypt) return ['${KEYCHAIN}']
  if (param.type === 'MultiChoice') return ['${TEXT}']
  if (param.validValues !== undefined) return [...param.validValues]
  return param.type === 'String' || param.type === 'StringMixed' ? ['${TEXT}'] : []
}

/** A component input has one type; the first (for indicator: String, one indicator) is what a step hands over. */
const inputType = (param: Param): PlaybookDataType => param.playbookDataType?.[0] ?? 'String'

const pipeInputParam = (param: Param, orderSequence: number): PipeInputParam => ({
  uiHidden: false,
  allowMultiple: false,
  serviceConfig: false,
  label: param.label,
  dataType: inputDataType(param),
  playbookDataType: inputType(param),
  required: param.required ?? false,
  name: param.name,
  encrypted: param.encrypt ?? false,
  ...(param.default === undefined ? {} : { defaultValue: String(param.default) }),
  viewRows: 1,
  orderSequence,
  hidden: param.hidden ?? false,
  hasDollarVariables: false,
  playbookVariable: false,
  validValuesList: validValues(param),
  variableTypes: [],
})

const triggerInput = (param: Param): string =>
  playbookVariable('Trigger', COMPONENT_IDS.trigger, param.name, inputType(param))

/**
 * The /run call's params: every input not a secret as a whole value in the query (`params`), so an input the playbook
 * leaves unset is left out (the HTTP Client's requests session drops a None value, and exclude_null_parameters says
 * so) instead of arriving as the text `<null>` inside a JSON body; and any text (a URL with a quote) is encoded.
 */
export const runQuery = (config: AppConfig): string =>
  keyValueList(config.params.filter((p) => p.encrypt !== true).map((p) => ({ key: p.name, value: triggerInput(p) })))

/** Vendor keys, each a whole keychain value in its own header (X-Virustotal-Key): never inside the body's text. */
const keyHeaders = (config: AppConfig): KeyValueRow[] =>
  config.params.filter((p) => p.encrypt === true).map((p) => ({ key: keyHeaderTitle(p.name), value: triggerInput(p) }))

/** What playbook authors read about the component in the designer: what it does, needs and returns. */
export const componentDescription = (config: AppConfig): string =>
  [
    `Enriches one indicator with the ${config.displayName} service that runs beside ThreatConnect: it asks the sources you choose and returns a verdict (malicious, suspicious, benign or unknown) with a score, threat rating, confidence and tags as outputs (enrich.results.verdict, .score, .threat_rating, .confidence, .tags, .note; one output per source fact).`,
    `Needs two organization variables: ${SERVICE_URL_VARIABLE} (Text: the service's URL) and ${RUN_TOKEN_VARIABLE} (Keychain: "Bearer <token>").`,
    'Vendor API keys are optional Keychain inputs; unset, the service uses its own.',
    'The step fails when the service cannot be reached or refuses the call, when no source answered (Fail on Error) or when nothing was found (Fail on No Results).',
  ].join(' ')

const byType = (config: AppConfig, type: 'String' | 'StringArray'): OutputVariable[] =>
  config.playbook.outputVariables.filter((o) => o.type === type)

const pipeOutput = (output: OutputVariable): PipeOutputParam => {
  const value = playbookVariable('App', COMPONENT_IDS.map, output.name, output.type)
  return { key: output.name, value, displayValue: value }
}

/**
 * Inputs in the order the app's layout shows them (its sections by sequence), then those it does not place (hidden).
 */
export const paramsInLayoutOrder = (config: AppConfig, layout: Layout | undefined): Param[] => {
  if (layout === undefined) return [...config.params]
  const placed = [...layout.inputs]
    .sort((a, b) => a.sequence - b.sequence)
    .flatMap((s) => s.parameters.map((p) => p.name))
  const byName = new Map(config.params.map((p) => [p.name, p]))
  return [...placed.flatMap((name) => byName.get(name) ?? []), ...config.params.filter((p) => !placed.includes(p.name))]
}

const componentTrigger = (config: AppConfig, params: readonly Param[]): PbxTrigger => ({
  id: COMPONENT_IDS.trigger,
  name: 'Component Trigger',
  type: 'PipeConfig',
  eventType: 'External',
  locationLeft: -320,
  locationTop: 200,
  scheduleType: 'Daily',
  anyOrg: true,
  playbookTriggerFilterList: [],
  outputVariables: declarations(params.map((p) => ({ name: p.name, type: inputType(p) }))),
  pipeInputParams: jsonText(params.map((p, i) => pipeInputParam(p, i))),
  pipeOutputParams: jsonText(config.playbook.outputVariables.map(pipeOutput)),
})

const unsupported = (config: AppConfig): string[] =>
  config.playbook.outputVariables
    .filter((o) => o.type !== 'String' && o.type !== 'StringArray')
    .map((o) => `${o.name}!${o.type}`)

/** `layout` orders the inputs as the native app shows them; without it they follow app.config.json. */
export const buildComponent = (config: AppConfig, layout?: Layout): PbxExport => {
  const odd = unsupported(config)
  if (odd.length > 0) throw new Error(`the component maps String and StringArray outputs only, not ${odd.join(', ')}`)
  const ids = COMPONENT_IDS
  const content = playbookVariable('App', ids.post, HTTP_CLIENT_CONTENT.name, HTTP_CLIENT_CONTENT.type)
  const expressions = (outputs: readonly OutputVariable[]): string =>
    keyValueList(outputs.map((o) => ({ key: o.name, value: outputExpression(o.name) })))
  const strings = byType(config, 'String')
  const arrays = byType(config, 'StringArray')
  return {
    ...exportHeader('Component', config.displayName, componentDescription(config)),
    version: config.programVersion.split('.').slice(0, 2).join('.'),
    jobList: [
      job({
        id: ids.post,
        name: 'POST /run',
        app: HTTP_CLIENT,
        at: [0, 200],
        params: {
          url: `${orgVariable('TEXT', SERVICE_URL_VARIABLE)}/run`,
          http_method: 'POST',
          headers: keyValueList([
            { key: 'Content-Type', value: 'application/json' },
            { key: 'Accept', value: 'application/json' },
            { key: 'Authorization', value: orgVariable('KEYCHAIN', RUN_TOKEN_VARIABLE) },
            ...keyHeaders(config),
          ]),
          // Every input travels in `params` and the key headers; the body carries nothing, so no secret either.
          body: '{}',
          params: runQuery(config),
          advanced: '[]',
          multipart: '[]',
          urlencode_body: 'false',
          exclude_null_parameters: 'true',
          // A non-2xx (bad input, wrong token, a failed run: 502 / 404) fails the step, and so the component.
          fail_on_error: 'true',
          verify_ssl: 'true',
          proxies_enabled: 'false',
        },
        outputs: [HTTP_CLIENT_CONTENT],
      }),
      job({
        id: ids.map,
        name: 'Map the outputs',
        app: JMESPATH,
        at: [300, 200],
        params: {
          json_data: content,
          string_expressions: expressions(strings),
          string_array_expressions: expressions(arrays),
          // An output the reply leaves out (a source not asked) stays empty instead of failing the step.
          fail_on_no_results: 'false',
          fail_on_jmes_expression: 'false',
          strip_quotes: 'true',
          strip_json: 'false',
          path_output: 'false',
        },
        outputs: [...strings, ...arrays].map(({ name, type }) => ({ name, type })),
      }),
    ],
    playbookTriggerList: [componentTrigger(config, paramsInLayoutOrder(config, layout))],
    playbookConnectionList: [
      link('Pass', { trigger: ids.trigger }, { job: ids.post }),
      link('Pass', { job: ids.post }, { job: ids.map }),
      link('Pass', { job: ids.map }, { trigger: ids.trigger }),
    ],
    exportablePipes: [],
  }
}
