/**
 * Shapes of app.config.json (install.json's shape) and layouts/layout.json. See docs/platform.md.
 */

export const PARAM_TYPES = [
  'Boolean',
  'Choice',
  'EditChoice',
  'KeyValueList',
  'MultiChoice',
  'String',
  'StringMixed',
] as const
type ParamType = (typeof PARAM_TYPES)[number]

export const PLAYBOOK_DATA_TYPES = [
  'Any',
  'String',
  'StringArray',
  'Binary',
  'BinaryArray',
  'KeyValue',
  'KeyValueArray',
  'TCEntity',
  'TCEntityArray',
  'TCEnhancedEntity',
  'TCEnhancedEntityArray',
] as const
export type PlaybookDataType = (typeof PLAYBOOK_DATA_TYPES)[number]

export interface Param {
  name: string
  label: string
  type: ParamType
  note?: string
  required?: boolean
  sequence?: number
  default?: string | boolean | number
  encrypt?: boolean
  hidden?: boolean
  allowMultiple?: boolean
  playbookDataType?: PlaybookDataType[]
  validValues?: string[]
}

export interface OutputVariable {
  name: string
  type: PlaybookDataType
  note?: string
}

export interface AppConfig {
  programLanguage: string
  programMain: string
  programVersion: string
  runtimeLevel: string
  displayName: string
  appId: string
  allowOnDemand?: boolean
  listDelimiter: string
  minServerVersion?: string
  note?: string
  features: string[]
  params: Param[]
  playbook: { type: string; outputVariables: OutputVariable[]; retry?: Record<string, unknown> }
  [extra: string]: unknown
}

export interface LayoutParameter {
  name: string
  display?: string
}

export interface LayoutSection {
  sequence: number
  title: string
  parameters: LayoutParameter[]
}

export interface LayoutOutput {
  name: string
  display?: string
}

export interface Layout {
  inputs: LayoutSection[]
  outputs: LayoutOutput[]
}

/** The loaded, checked contract an app instance runs with. */
export interface Contract {
  readonly config: AppConfig
  readonly layout: Layout
  /** Where they were read from, for messages. */
  readonly files: { readonly config: string; readonly layout: string }
}
