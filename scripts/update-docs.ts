/** `npm run docs`: rewrites the generated tables in docs/ from the contract and the settings table. */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadContract } from '../src/contract/load.js'
import { findProjectRoot } from '../src/contract/project-root.js'
import { generatedBlocks } from './docs/generated-blocks.js'
import { replaceBlock } from './docs/tables.js'
import { SOURCE_DEFINITIONS } from '../src/sources/registry.js'

const root = findProjectRoot()
const contract = loadContract({ root, sources: SOURCE_DEFINITIONS })
const docs = new Map<string, string>()
for (const block of generatedBlocks(contract, SOURCE_DEFINITIONS)) {
  const path = join(root, block.file)
  const text = docs.get(path) ?? readFileSync(path, 'utf8')
  docs.set(path, replaceBlock(text, block.name, block.content))
}
for (const [path, text] of docs) writeFileSync(path, text)
process.stdout.write(`updated ${[...docs.keys()].length} file(s)\n`)
