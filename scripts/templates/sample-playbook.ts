/**
 * A sample Playbook (export type "Playbook") that uses the component: an analyst runs it from an Address, Host,
 * URL or File indicator (UserAction trigger); the component enriches it; a malicious verdict tags the indicator
 * and sets its threat rating with the platform's native apps (the playbook stores data, the service only answers).
 * Every branch answers the analyst: the verdict, or why the enrichment failed; each sets its reply and a Merge hands
 * the one that ran back to the trigger, as partner templates do. The component travels inside (exportablePipes), so
 * importing this one file brings both.
 */
import type { AppConfig, Param } from '../../src/contract/types.js'
import { IF_ELSE, LOGGER, MERGE, SET_VARIABLE, TAG_CREATE, UPDATE_RATING, USER_ACTION_OUTPUTS } from './catalog.js'
import { exportHeader } from './export-structure.js'
import type { PbxExport, PbxTrigger } from './pbx.js'
import { declarations, job, keyValueList, link } from './steps.js'
import { playbookVariable } from './variables.js'

export const PLAYBOOK_IDS = {
  trigger: 101,
  enrich: 111,
  isMalicious: 112,
  tag: 113,
  rate: 114,
  logVerdict: 115,
  logFailure: 116,
  setReply: 117,
  setFailure: 118,
  reply: 119,
} as const

/** The variables the reply is made of: each branch sets its own, the Merge answers with the one that ran. */
const REPLY = { done: 'v.reply', failed: 'v.failed', merged: 'm.reply' } as const

/** The indicator types the action is offered on. */
const USER_ACTION_TYPES = ['Address', 'Host', 'URL', 'File'] as const
/** The param that receives the clicked indicator. */
const INDICATOR_PARAM = 'indicator'
const MALICIOUS_TAG = 'Enrichment: malicious'

const item = playbookVariable('Trigger', PLAYBOOK_IDS.trigger, 'trg.action.item', 'String')
const entity = playbookVariable('Trigger', PLAYBOOK_IDS.trigger, 'trg.action.entity', 'TCEntity')
const output = (name: string, type = 'String'): string =>
  playbookVariable('App', PLAYBOOK_IDS.enrich, `enrich.results.${name}`, type)

/** Each param the step sets: the clicked indicator, else the param's default; no default: left for the user. */
const componentParams = (params: readonly Param[]): Record<string, string> =>
  Object.fromEntries(
    params.flatMap((p) => {
      if (p.name === INDICATOR_PARAM) return [[p.name, item]]
      return p.default === undefined ? [] : [[p.name, String(p.default)]]
    }),
  )

const userActionTrigger = (): PbxTrigger => ({
  id: PLAYBOOK_IDS.trigger,
  name: 'Enrich this indicator',
  type: 'UserAction',
  eventType: 'External',
  locationLeft: -320,
  locationTop: 200,
  httpResponseHeader: '[]',
  scheduleType: 'Daily',
  anyOrg: true,
  userActionTypes: USER_ACTION_TYPES.join(','),
  renderBodyAsTip: true,
  playbookTriggerFilterList: [],
  cacheMinutes: 0,
  cacheParams: JSON.stringify({ includeMethod: false, includeBody: false, queryParams: [], headerNames: [] }),
  outputVariables: declarations(USER_ACTION_OUTPUTS),
  // Shown to the analyst: whichever branch ran, through the Merge.
  httpResponseBody: playbookVariable('App', PLAYBOOK_IDS.reply, REPLY.merged, 'String'),
})

/** `component` must carry its definitionVersion: the step that runs it names it by that. */
export const buildSamplePlaybook = (config: AppConfig, component: PbxExport): PbxExport => {
  if (component.definitionVersion === undefined)
    throw new Error('the component needs a definitionVersion to be run from a playbook')
  const ids = PLAYBOOK_IDS
  return {
    ...exportHeader(
      'Playbook',
      'Enrich On Demand',
      `Run from an ${USER_ACTION_TYPES.join(', ')} indicator: enrich it with the ${component.name} component; when the verdict is malicious, tag the indicator and set its threat rating; show the verdict.`,
    ),
    version: '1.0',
    jobList: [
      job({
        id: ids.enrich,
        name: component.name,
        app: {
          programName: component.definitionVersion,
          displayName: component.name,
          programVersion: '1.0.0',
          pipeRunLevel: true,
        },
        at: [0, 200],
        params: componentParams(config.params),
        outputs: config.playbook.outputVariables.map(({ name, type }) => ({ name, type })),
      }),
      job({
        id: ids.isMalicious,
        name: 'Verdict is malicious?',
        app: IF_ELSE,
        at: [300, 200],
        params: {
          operand_1: output('verdict'),
          operator: 'equals',
          operand_2: 'malicious',
          match_case: 'false',
          as_numeric: 'false',
        },
      }),
      job({
        id: ids.tag,
        name: 'Tag the indicator',
        app: TAG_CREATE,
        at: [600, 200],
        params: { entity, tag: MALICIOUS_TAG, fail_on_error: 'false' },
      }),
      job({
        id: ids.rate,
        name: 'Set the threat rating',
        app: UPDATE_RATING,
        at: [900, 200],
        params: {
          source_entities: entity,
          rating: output('threat_rating'),
          field_type: 'RATING',
          fail_on_error: 'false',
        },
      }),
      job({
        id: ids.logVerdict,
        name: 'Log the verdict',
        app: LOGGER,
        at: [600, 400],
        params: { logging: 'INFO', log_message: `${item}: ${output('verdict')} (score ${output('score')})` },
      }),
      job({
        id: ids.logFailure,
        name: 'Log the failure',
        app: LOGGER,
        at: [300, 600],
        params: {
          logging: 'ERROR',
          log_message: `Enrichment of ${item} failed; the ${component.name} component's log says why.`,
        },
      }),
      job({
        id: ids.setReply,
        name: 'Set the reply',
        app: SET_VARIABLE,
        at: [150, 200],
        params: {
          variable_mapping: keyValueList([
            {
              key: REPLY.done,
              value: `${output('indicator')}: ${output('verdict')} (score ${output('score')}, threat rating ${output('threat_rating')}, confidence ${output('confidence')})`,
            },
          ]),
        },
        outputs: [{ name: REPLY.done, type: 'String' }],
      }),
      job({
        id: ids.setFailure,
        name: 'Set the failure reply',
        app: SET_VARIABLE,
        at: [600, 600],
        params: {
          variable_mapping: keyValueList([
            {
              key: REPLY.failed,
              value: `Enrichment of ${item} failed: the service could not be reached or refused the call (is enrich_service_url right, and enrich_run_token?), or no source answered. The ${component.name} step's log in this playbook's execution says which.`,
            },
          ]),
        },
        outputs: [{ name: REPLY.failed, type: 'String' }],
      }),
      job({
        id: ids.reply,
        name: 'Reply',
        app: MERGE,
        at: [1200, 400],
        params: {
          output_array: keyValueList([
            { key: REPLY.merged, value: playbookVariable('App', ids.setReply, REPLY.done, 'String') },
            { key: REPLY.merged, value: playbookVariable('App', ids.setFailure, REPLY.failed, 'String') },
          ]),
        },
        outputs: [{ name: REPLY.merged, type: 'String' }],
      }),
    ],
    playbookTriggerList: [userActionTrigger()],
    playbookConnectionList: [
      link('Pass', { trigger: ids.trigger }, { job: ids.enrich }),
      link('Pass', { job: ids.enrich }, { job: ids.setReply }),
      link('Pass', { job: ids.setReply }, { job: ids.isMalicious }),
      link('Fail', { job: ids.enrich }, { job: ids.logFailure }),
      link('Pass', { job: ids.logFailure }, { job: ids.setFailure }),
      link('Pass', { job: ids.setFailure }, { job: ids.reply }),
      link('Pass', { job: ids.isMalicious }, { job: ids.tag }),
      link('Fail', { job: ids.isMalicious }, { job: ids.logVerdict }),
      link('Pass', { job: ids.tag }, { job: ids.rate }),
      link('Pass', { job: ids.rate }, { job: ids.reply }),
      link('Pass', { job: ids.logVerdict }, { job: ids.reply }),
      link('Pass', { job: ids.reply }, { trigger: ids.trigger }),
    ],
    exportablePipes: [component],
  }
}
