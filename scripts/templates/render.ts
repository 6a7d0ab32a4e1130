/**
 * The committed templates, from the contract: what `scripts/build-templates.ts` writes and what the tests compare
 * the committed files with. Each ships as a `.pbxz` (a zip holding `playbook.pbx`), as current exports do.
 * Deterministic: same contract, same `playbook.pbx` text.
 */
import { createHash } from 'node:crypto'
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate'
import type { AppConfig, Layout } from '../../src/contract/types.js'
import { buildComponent } from './component.js'
import type { PbxExport } from './pbx.js'
import { buildSamplePlaybook } from './sample-playbook.js'

export const TEMPLATES_DIR = 'playbook-templates'
export const COMPONENT_FILE = `${TEMPLATES_DIR}/enrich-indicator.component.pbxz`
export const PLAYBOOK_FILE = `${TEMPLATES_DIR}/enrich-on-demand.playbook.pbxz`
export const TEMPLATES_README = `${TEMPLATES_DIR}/README.md`
/** The one entry of a .pbxz. */
const PBX_ENTRY = 'playbook.pbx'

const formatPbx = (pbx: PbxExport): string => `${JSON.stringify(pbx, null, 2)}\n`

/** The id a playbook runs an embedded component by: a digest of the component's content, as exports carry. */
export const definitionVersionOf = (component: PbxExport): string =>
  createHash('md5').update(formatPbx(component)).digest('hex')

/** A fixed time for the zip entry, so the same text gives the same archive. */
const ENTRY_TIME = new Date(Date.UTC(2026, 0, 1))

export const packPbxz = (text: string): Uint8Array =>
  zipSync({ [PBX_ENTRY]: [strToU8(text), { mtime: ENTRY_TIME }] }, { level: 9 })

/** The playbook.pbx text inside a .pbxz; throws naming what is wrong when it is not one. */
export const unpackPbxz = (bytes: Uint8Array): string => {
  const entries = unzipSync(bytes)
  const entry = entries[PBX_ENTRY]
  if (entry === undefined)
    throw new Error(`a .pbxz holds ${PBX_ENTRY}; this one holds ${Object.keys(entries).join(', ') || 'nothing'}`)
  return strFromU8(entry)
}

export interface RenderedTemplate {
  /** Relative to the project root, '/'-separated. */
  readonly file: string
  /** The playbook.pbx inside. */
  readonly text: string
}

/** `layout` (layouts/layout.json) orders the component's inputs as the native app shows them. */
export const renderTemplates = (config: AppConfig, layout?: Layout): RenderedTemplate[] => {
  const component = buildComponent(config, layout)
  // Embedded in a playbook, a component carries its definitionVersion and no exportablePipes of its own.
  const { exportablePipes: _none, ...body } = component
  const embedded: PbxExport = { definitionVersion: definitionVersionOf(component), ...body }
  return [
    { file: COMPONENT_FILE, text: formatPbx(component) },
    { file: PLAYBOOK_FILE, text: formatPbx(buildSamplePlaybook(config, embedded)) },
  ]
}
