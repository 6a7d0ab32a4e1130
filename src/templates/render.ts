/**
 * The committed templates as text, from the contract: what `scripts/build-templates.ts` writes and what the
 * tests compare the committed files with. Deterministic: same contract, same bytes.
 */
import { createHash } from 'node:crypto'
import type { AppConfig, Layout } from '../contract/types.js'
import { buildComponent } from './component.js'
import type { PbxExport } from './pbx.js'
import { buildSamplePlaybook } from './sample-playbook.js'

export const TEMPLATES_DIR = 'playbook-templates'
export const COMPONENT_FILE = `${TEMPLATES_DIR}/enrich-indicator.component.pbx`
export const PLAYBOOK_FILE = `${TEMPLATES_DIR}/enrich-on-demand.playbook.pbx`
export const TEMPLATES_README = `${TEMPLATES_DIR}/README.md`

export const formatPbx = (pbx: PbxExport): string => `${JSON.stringify(pbx, null, 2)}\n`

/** The id a playbook runs an embedded component by: a digest of the component's content, as exports carry. */
export const definitionVersionOf = (component: PbxExport): string => createHash('md5').update(formatPbx(component)).digest('hex')

export interface RenderedTemplate {
  /** Relative to the project root, '/'-separated. */
  readonly file: string
  readonly text: string
}

/** `layout` (layouts/layout.json) orders the component's inputs as the native app shows them. */
export const renderTemplates = (config: AppConfig, layout?: Layout): RenderedTemplate[] => {
  const component = buildComponent(config, layout)
  const embedded: PbxExport = { definitionVersion: definitionVersionOf(component), ...component }
  return [
    { file: COMPONENT_FILE, text: formatPbx(component) },
    { file: PLAYBOOK_FILE, text: formatPbx(buildSamplePlaybook(config, embedded)) },
  ]
}
