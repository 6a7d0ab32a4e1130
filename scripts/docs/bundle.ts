/** What the ThreatConnect bundle (`npm run package`) is made of; the package script and its tests read it here. */
import { TEMPLATES_DIR } from '../templates/render.js'

/** The ThreatConnect bundle: what an admin imports and reads; the files these link to come too. */
export const BUNDLE_DOCUMENTS: readonly string[] = [
  'docs/user-guide.md',
  'docs/solution-design.md',
  'docs/feed-job-design.md',
  'docs/alerts-design.md',
  'docs/qa-plan.md',
  'CHANGELOG.md',
  `${TEMPLATES_DIR}/README.md`,
]

/** The one instruction, as the user guide gives it. */
export const BUNDLE_README =
  'Import playbook-templates/enrich-on-demand.playbook.pbxz into ThreatConnect (Playbooks > New > Import): it brings the Indicator Enrichment component with it; do not import the component file as well. Then follow docs/user-guide.md, "Set up ThreatConnect".\n'

