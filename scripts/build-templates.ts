/**
 * `npm run templates`: regenerates playbook-templates/*.pbxz from the contract, checks them, and writes them.
 * With --check it writes nothing and exits 1 when a committed template differs from what the contract gives.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadContract } from '../src/contract/load.js'
import { findProjectRoot } from '../src/contract/project-root.js'
import { SOURCE_DEFINITIONS } from '../src/sources/registry.js'
import { checkTemplateText } from './templates/check.js'
import { formatTemplateProblem } from './templates/problems.js'
import { packPbxz, renderTemplates, unpackPbxz } from './templates/render.js'

const checkOnly = process.argv.includes('--check')
const root = findProjectRoot()
const contract = loadContract({ root, sources: SOURCE_DEFINITIONS })
const templates = renderTemplates(contract.config, contract.layout)

const problems = templates.flatMap((t) => checkTemplateText(t.text, contract.config, t.file))
for (const p of problems) console.error(formatTemplateProblem(p))
if (problems.length > 0) {
  console.error(`the generated templates have ${problems.length} problem(s); nothing written`)
  process.exit(1)
}

const current = (file: string): string | undefined => {
  try {
    return unpackPbxz(readFileSync(join(root, file)))
  } catch {
    return undefined
  }
}
const stale = templates.filter((t) => current(t.file) !== t.text)
if (checkOnly) {
  for (const t of stale) console.error(`${t.file} is out of date with app.config.json (npm run templates rewrites it)`)
  process.exitCode = stale.length > 0 ? 1 : 0
} else {
  for (const t of stale) writeFileSync(join(root, t.file), packPbxz(t.text))
  console.log(`templates: ${stale.length} written, ${templates.length - stale.length} already up to date`)
}
