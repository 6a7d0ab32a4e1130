/** Small builders for .pbx steps, links and the JSON-in-a-string fields the export format uses. */
import type { AppCatalogItem, KeyValueRow, LinkType, PbxJob, PbxLink, VariableDeclaration } from './pbx.js'

export type Endpoint = { readonly job: number } | { readonly trigger: number }

export interface JobSpec {
  readonly id: number
  readonly name: string
  readonly app: AppCatalogItem
  /** Param name -> value; an undefined value is exported as a param with no value (left empty). */
  readonly params: Readonly<Record<string, string | undefined>>
  readonly outputs?: readonly VariableDeclaration[]
  /** Designer canvas position [left, top]. */
  readonly at: readonly [number, number]
}

/** Lists inside a step or trigger are exported as JSON text. */
export const jsonText = (value: unknown): string => JSON.stringify(value)

export const keyValueList = (rows: readonly KeyValueRow[]): string =>
  jsonText(rows.map(({ key, value }) => ({ key, value })))

/** As exports write declarations: with the designer's bookkeeping fields. */
export const declarations = (outputs: readonly VariableDeclaration[]): string =>
  jsonText(outputs.map(({ name, type }) => ({ sourceInputList: [], loopVariables: false, name, type, encrypt: false })))

export const job = (spec: JobSpec): PbxJob => ({
  id: spec.id,
  appCatalogItem: { ...spec.app },
  name: spec.name,
  jobParameterList: Object.entries(spec.params).map(([paramName, value]) =>
    value === undefined
      ? { appCatalogItemParameter: { paramName } }
      : { appCatalogItemParameter: { paramName }, value },
  ),
  locationLeft: spec.at[0],
  locationTop: spec.at[1],
  outputVariables: declarations(spec.outputs ?? []),
})

/** A link back to a trigger is "circular": it ends the run and hands the trigger's response to the caller. */
export const link = (type: LinkType, from: Endpoint, to: Endpoint): PbxLink => ({
  type,
  isCircularOnTarget: 'trigger' in to,
  ...('job' in from ? { sourceJobId: from.job } : { sourceTriggerId: from.trigger }),
  ...('job' in to ? { targetJobId: to.job } : { targetTriggerId: to.trigger }),
})
