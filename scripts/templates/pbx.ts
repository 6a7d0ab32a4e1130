/**
 * The ThreatConnect playbook export (.pbx) shape, as current exports (.pbxz, 2021-2026) carry it. Plain JSON; a
 * few fields (outputVariables, pipeInputParams, pipeOutputParams, and list-valued step params) are JSON *strings*
 * holding arrays, exactly as the platform exports them. export-structure.ts lists the keys real exports carry.
 */
import type { PlaybookDataType } from '../../src/contract/types.js'

/** "Playbook" is a playbook; "Component" a sub-playbook used like an app (legacy exports said Standard / Pipe). */
export type PbxType = 'Playbook' | 'Component'

export interface AppCatalogItem {
  programName: string
  displayName: string
  programVersion: string
  /** Set on a step that runs a component; programName is then the component's definitionVersion. */
  pipeRunLevel?: boolean
}

interface JobParameter {
  appCatalogItemParameter: { paramName: string }
  value?: string
}

export interface PbxJob {
  id: number
  appCatalogItem: AppCatalogItem
  name: string
  jobParameterList: JobParameter[]
  locationLeft: number
  locationTop: number
  /** JSON string: VariableDeclaration[]. */
  outputVariables: string
}

export interface PbxTrigger {
  id: number
  name: string
  type: string
  eventType: string
  locationLeft: number
  locationTop: number
  scheduleType?: string
  anyOrg?: boolean
  playbookTriggerFilterList?: unknown[]
  /** UserAction / HttpLink: JSON string of headers for the caller. */
  httpResponseHeader?: string
  renderBodyAsTip?: boolean
  cacheMinutes?: number
  cacheParams?: string
  organizationNames?: string[]
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
  panX: number
  panY: number
  zoom: number
  logLevel: string
  description: string
  roiDollarsPerHour: number
  roiMinutes: number
  priority: number
  version: string
  comment: string
  jobList: PbxJob[]
  playbookConnectionList: PbxLink[]
  playbookTriggerList: PbxTrigger[]
  playbookLabels: unknown[]
  playbookScopeVariables: unknown[]
  /** Absent on an embedded component. */
  exportablePipes?: PbxExport[]
}

export interface VariableDeclaration {
  name: string
  type: PlaybookDataType
}

/** One input of a component, as its PipeConfig trigger declares it (current exports' fields). */
export interface PipeInputParam {
  uiHidden: boolean
  allowMultiple: boolean
  serviceConfig: boolean
  label: string
  dataType: string
  playbookDataType: PlaybookDataType
  required: boolean
  name: string
  encrypted: boolean
  defaultValue?: string
  viewRows: number
  orderSequence: number
  hidden: boolean
  hasDollarVariables: boolean
  playbookVariable: boolean
  validValuesList: string[]
  variableTypes: string[]
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
