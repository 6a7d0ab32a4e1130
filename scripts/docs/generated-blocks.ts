/** Which generated table goes into which doc: the one list `npm run docs` and the staleness test share. */
import { alertSettingRows } from '../../src/config/alert-settings.js'
import { settingRows } from '../../src/config/env.js'
import { feedSettingRows } from '../../src/config/feed-settings.js'
import { FEED_IDS, feedDefinition } from '../../src/feeds/registry.js'
import type { Contract } from '../../src/contract/types.js'
import type { SourceDefinition } from '../../src/sources/types.js'
import { errorsTable, outputsTable, paramsTable, settingsTable, sourcesTable } from './tables.js'

export interface GeneratedBlock {
  readonly file: string
  readonly name: string
  readonly content: string
}

export const generatedBlocks = (contract: Contract, sources: readonly SourceDefinition[]): GeneratedBlock[] => [
  { file: 'docs/user-guide.md', name: 'params', content: paramsTable(contract.config) },
  { file: 'docs/user-guide.md', name: 'outputs', content: outputsTable(contract.config, contract.layout) },
  { file: 'docs/user-guide.md', name: 'settings', content: settingsTable([...settingRows(sources), ...feedSettingRows(FEED_IDS.map((id) => feedDefinition(id, 'data/feed.sample.csv'))), ...alertSettingRows()]) },
  { file: 'docs/user-guide.md', name: 'errors', content: errorsTable() },
  { file: 'docs/user-guide.md', name: 'sources', content: sourcesTable(sources) },
  // The solution design document repeats the contract's tables for reviewers; generated, so it cannot drift.
  { file: 'docs/solution-design.md', name: 'params', content: paramsTable(contract.config) },
  { file: 'docs/solution-design.md', name: 'outputs', content: outputsTable(contract.config, contract.layout) },
  { file: 'docs/solution-design.md', name: 'sources', content: sourcesTable(sources) },
  { file: 'docs/solution-design.md', name: 'errors', content: errorsTable() },
]
