import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadContract } from '../../src/contract/load.js'
import { findProjectRoot } from '../../src/contract/project-root.js'
import { generatedBlocks } from '../../scripts/docs/generated-blocks.js'
import { replaceBlock } from '../../scripts/docs/tables.js'
import { SOURCE_DEFINITIONS } from '../../src/sources/registry.js'

const root = findProjectRoot()
const contract = loadContract({ root, sources: SOURCE_DEFINITIONS })

for (const block of generatedBlocks(contract, SOURCE_DEFINITIONS)) {
  t.test(`${block.file} "${block.name}" table is current (run npm run docs)`, async (t) => {
    const text = readFileSync(join(root, block.file), 'utf8')
    t.equal(replaceBlock(text, block.name, block.content), text)
  })
}

t.test('every declared output appears in the outputs table', async (t) => {
  const text = readFileSync(join(root, 'docs/user-guide.md'), 'utf8')
  for (const o of contract.config.playbook.outputVariables) t.match(text, `\`${o.name}\``)
})
