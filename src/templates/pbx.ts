/**
 * The ThreatConnect playbook export (.pbx) shape, as far as our templates use it. Plain JSON; a few fields
 * (outputVariables, pipeInputParams, pipeOutputParams, and list-valued step params) are JSON *strings*
 * holding arrays, exactly as the platform exports them.
 */
import type { PlaybookDataType } from '../contract/types.js'

export const PBX_TOP_LEVEL_KEYS = [
  'name',
  'type',
  'description',
  'logLevel',
  'version',
  'jobList',
  'playbookTriggerList',
  'playbookConnectionList',
  'playbookLabels',
  'exportablePipes',
] as const

/** "Standard" is a playbook; "Pipe" is a component (a sub-playbook that is used like an app). */
export type PbxType = 'Standard' | 'Pipe'

export interface AppCatalogItem {
  programName: string
  displayName: string
  programVersion: string
  /** Set on a step that runs a component; programName is then the component's definitionVersion. */
  pipeRunLevel?: boolean
}

export interface JobParameter {
  appCatalogItemParameter: { paramName: string }
  value?: string
}

export interface PbxJob {
  id: number
  name: string
  locationLeft: number
  locationTop: number
  appCatalogItem: AppCatalogItem
  jobParameterList: JobParameter[]
  /** JSON string: VariableDeclaration[]. */
  outputVariables?: string
}

export interface PbxTrigger {
  id: number
  name: string
  type: string
  eventType: string
  locationLeft: number
  locationTop: number
  anyOrg?: boolean
  playbookTriggerFilterList?: unknown[]
  /** JSON string: VariableDeclaration[]; what steps may read as #Trigger:<id>:<name>!<type>. */
  outputVariables: string
  /** UserAction: comma-separated indicator types the action is offered on. */
  userActionTypes?: string
  /** UserAction / HttpLink: what the caller gets back when a step links back to the trigger. */
  httpResponseBody?: string
  /** PipeConfig: JSON string, PipeInputParam[]. */
  pipeInputParams?: string
  /** PipeConfig: JSON string, PipeOutputParam[]. */
  pipeOutputParams?: string
}

export type LinkType = 'Pass' | 'Fail'

export interface PbxLink {
  type: LinkType
  isCircularOnTarget: boolean
  sourceJobId?: number
  sourceTriggerId?: number
  targetJobId?: number
  targetTriggerId?: number
}

export interface PbxExport {
  /** On an embedded component (exportablePipes[]): the id steps that run it use as programName. */
  definitionVersion?: string
  name: string
  type: PbxType
  description: string
  logLevel: string
  version: string
  jobList: PbxJob[]
  playbookTriggerList: PbxTrigger[]
  playbookConnectionList: PbxLink[]
  playbookLabels: unknown[]
  exportablePipes: PbxExport[]
}

export interface VariableDeclaration {
  name: string
  type: PlaybookDataType
}

/** One input of a component, as its PipeConfig trigger declares it (the shape of an install.json param). */
export interface PipeInputParam {
  name: string
  label: string
  dataType: string
  playbookDataType: PlaybookDataType
  required: boolean
  encrypted: boolean
  hidden: boolean
  hasDollarVariables: boolean
  playbookVariable: boolean
  validValuesList: string[]
  default?: string
  note?: string
}

/** One output of a component: its name, and the variable (with type) that fills it. */
export interface PipeOutputParam {
  key: string
  value: string
  displayValue: string
}

/** A key/value row of a list-valued step param (headers, JSON path mappings, ...). */
export interface KeyValueRow {
  key: string
  value: string
}
