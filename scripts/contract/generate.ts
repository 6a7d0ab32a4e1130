/**
 * The source-driven parts of the contract, generated from the source definitions (src/sources/, the registry):
 * the `sources` param's values, one keychain key param per vendor that takes a key, each source's published outputs
 * (`enrich.results.<id>.<key>`) and each vendor's raw answer (`enrich.response.<id>.json`), and their layout entries.
 * Everything else in app.config.json and layouts/layout.json is written by hand and kept as it is. Pure: the same
 * contract and sources give the same files; `npm run contract` writes them, and a test fails when they are stale.
 */
import type { AppConfig, Layout, LayoutOutput, OutputVariable, Param } from '../../src/contract/types.js'
import type { SourceDefinition } from '../../src/sources/types.js'

const SOURCES_PARAM = 'sources'
/** The layout section the key params go to. */
const CONNECTION_SECTION = 'Connection'

const isSourceOutput = (name: string, ids: readonly string[]): boolean =>
  ids.some((id) => name.startsWith(`enrich.results.${id}.`) || name.startsWith(`enrich.response.${id}.`))

/** The key param of a vendor source, from its key setting (the one a request may override). */
const keyParam = (source: SourceDefinition): Param | undefined => {
  const setting = source.settings.find((s) => s.param !== undefined && s.secret === true)
  if (setting?.param === undefined) return undefined
  return {
    name: setting.param,
    label: `${source.title} API Key`,
    type: 'String',
    required: false,
    encrypt: true,
    note: `${source.title} API key; when set, used instead of the service's ${setting.env}.`,
    playbookDataType: ['String'],
    validValues: ['${KEYCHAIN}'],
  }
}

const sourceOutputs = (source: SourceDefinition): OutputVariable[] => [
  ...source.outputs.map((o) => ({ name: `enrich.results.${source.id}.${o.key}`, type: o.type, note: o.note })),
  ...(source.kind === 'vendor'
    ? [
        {
          name: `enrich.response.${source.id}.json`,
          type: 'String' as const,
          note: `${source.title}: the source's own answer as JSON (bounded in size and depth), as it was received or served from the cache.`,
        },
      ]
    : []),
]

/** The contract with its source-driven parts made from `sources`. */
export const generateContract = (
  config: AppConfig,
  layout: Layout,
  sources: readonly SourceDefinition[],
): { config: AppConfig; layout: Layout } => {
  const ids = sources.map((s) => s.id)
  const keyParams = sources.flatMap((s) => keyParam(s) ?? [])
  const keyNames = new Set(keyParams.map((p) => p.name))
  const isKeyParam = (p: Param): boolean => keyNames.has(p.name) || (p.encrypt === true && p.name.endsWith('_api_key'))

  // Params: the hand-written ones in their order, the key params right after `sources`; sequences renumbered.
  const handWritten = config.params.filter((p) => !isKeyParam(p))
  const at = handWritten.findIndex((p) => p.name === SOURCES_PARAM) + 1
  const params = [...handWritten.slice(0, at), ...keyParams, ...handWritten.slice(at)].map((p, i) => {
    const param: Param = p.name === SOURCES_PARAM ? { ...p, validValues: [...ids] } : { ...p }
    return { ...param, sequence: i + 1 }
  })

  const outputs = [
    ...config.playbook.outputVariables.filter((o) => !isSourceOutput(o.name, ids)),
    ...sources.flatMap(sourceOutputs),
  ]
  const displayOf = new Map(layout.outputs.map((o) => [o.name, o.display]))
  const layoutOutputs: LayoutOutput[] = outputs.map((o) => {
    const display = displayOf.get(o.name)
    return display === undefined ? { name: o.name } : { name: o.name, display }
  })
  const inputs = layout.inputs.map((section) => {
    const kept = section.parameters.filter((p) => !keyNames.has(p.name) && !p.name.endsWith('_api_key'))
    return section.title === CONNECTION_SECTION
      ? { ...section, parameters: [...kept, ...keyParams.map((p) => ({ name: p.name }))] }
      : { ...section, parameters: kept }
  })
  return {
    config: { ...config, params, playbook: { ...config.playbook, outputVariables: outputs } },
    layout: { ...layout, inputs, outputs: layoutOutputs },
  }
}

/** The files as `npm run contract` writes them. */
export const formatContractFile = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`
