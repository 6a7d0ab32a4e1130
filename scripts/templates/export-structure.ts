/**
 * The structure of current ThreatConnect playbook exports, as facts read off the 19 `.pbxz` exports (2021-2026) in
 * the public ThreatConnect-Inc/threatconnect-playbooks repository: which keys each kind of object carries in every
 * export (required) and which appear in some (allowed). The template checker compares our templates with it, so
 * a template that drifts from what the platform exports fails `npm test`.
 */
import type { PbxExport, PbxType } from './pbx.js'

export interface KeySet {
  /** In every real export of this kind of object. */
  readonly required: readonly string[]
  /** Seen in some real exports; tolerated. */
  readonly optional: readonly string[]
}

const TOP_LEVEL_COMMON = [
  'name',
  'type',
  'panX',
  'panY',
  'zoom',
  'logLevel',
  'description',
  'roiDollarsPerHour',
  'roiMinutes',
  'priority',
  'version',
  'comment',
  'jobList',
  'playbookConnectionList',
  'playbookTriggerList',
  'playbookLabels',
  'playbookScopeVariables',
] as const

export const EXPORT_STRUCTURE = {
  /** The exported playbook or component itself (the file's top level). */
  topLevel: {
    required: [...TOP_LEVEL_COMMON, 'exportablePipes'],
    optional: ['groupXid', 'notifyEmailList', 'blockList'],
  },
  /** A component embedded in a playbook's exportablePipes. */
  embeddedComponent: { required: ['definitionVersion', ...TOP_LEVEL_COMMON], optional: ['groupXid'] },
  job: {
    required: ['id', 'appCatalogItem', 'name', 'jobParameterList', 'locationLeft', 'locationTop', 'outputVariables'],
    optional: [
      'agentTools',
      'toolsets',
      'layoutRequiredInputParams',
      'layoutDisplayedInputParams',
      'layoutDisplayOutputVariables',
      'languageModelConfiguration',
      'active',
      'playbookRetryDelayMinutes',
      'playbookRetryMaxRetries',
    ],
  },
  trigger: {
    required: [
      'id',
      'name',
      'type',
      'eventType',
      'locationLeft',
      'locationTop',
      'playbookTriggerFilterList',
      'outputVariables',
    ],
    optional: [
      'scheduleType',
      'scheduleCronFormat',
      'anyOrg',
      'organizationNames',
      'active',
      'httpResponseHeader',
      'httpResponseBody',
      'userActionTypes',
      'renderBodyAsTip',
      'cacheMinutes',
      'cacheParams',
      'timeoutMinutes',
      'pipeInputParams',
      'pipeOutputParams',
    ],
  },
  link: {
    required: ['type', 'isCircularOnTarget'],
    optional: ['sourceJobId', 'sourceTriggerId', 'targetJobId', 'targetTriggerId'],
  },
  pipeInput: {
    required: [
      'uiHidden',
      'allowMultiple',
      'serviceConfig',
      'label',
      'dataType',
      'playbookDataType',
      'required',
      'name',
      'encrypted',
      'viewRows',
      'orderSequence',
      'hidden',
      'hasDollarVariables',
      'playbookVariable',
      'validValuesList',
      'variableTypes',
    ],
    optional: ['defaultValue'],
  },
  /** An entry of an outputVariables JSON string. */
  declaration: { required: ['sourceInputList', 'loopVariables', 'name', 'type'], optional: ['encrypt'] },
} as const satisfies Record<string, KeySet>

/** Top-level `type` of current exports (legacy `.pbx` said Standard / Pipe). */
export const EXPORT_TYPES: readonly PbxType[] = ['Playbook', 'Component']
/** Component input data types seen in real component exports. */
export const COMPONENT_INPUT_DATA_TYPES: readonly string[] = ['String', 'Boolean', 'Choice', 'KeyValueList']

/** The fixed header fields every export carries, with the designer's defaults. */
export const exportHeader = (
  type: PbxType,
  name: string,
  description: string,
): Omit<PbxExport, 'version' | 'jobList' | 'playbookConnectionList' | 'playbookTriggerList' | 'exportablePipes'> => ({
  name,
  type,
  panX: 0,
  panY: 0,
  zoom: 1,
  logLevel: 'WARN',
  description,
  roiDollarsPerHour: 75,
  roiMinutes: 10,
  priority: 6,
  comment: 'Generated from app.config.json by npm run templates',
  playbookLabels: [],
  playbookScopeVariables: [],
})
