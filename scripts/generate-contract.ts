/**
 * `npm run contract`: writes the source-driven parts of app.config.json and layouts/layout.json from the source
 * definitions (scripts/contract/generate.ts says which), and the run body's static type from the params
 * (scripts/contract/run-body-type.ts). With --check it writes nothing and exits 1 when they are stale. Reads the
 * files as JSON, not through the loader: a contract the sources changed may not load until written.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONFIG_FILE, findProjectRoot } from '../src/contract/project-root.js'
import { LAYOUT_FILE } from '../src/contract/load.js'
import type { AppConfig, Layout } from '../src/contract/types.js'
import { SOURCE_DEFINITIONS } from '../src/sources/registry.js'
import { formatContractFile, generateContract } from './contract/generate.js'
import { RUN_BODY_TYPE_FILE, runBodyTypeSource } from './contract/run-body-type.js'

const root = findProjectRoot()
const read = (file: string): string => {
  try {
    return readFileSync(join(root, file), 'utf8')
  } catch {
    return ''
  }
}
const config = JSON.parse(read(CONFIG_FILE)) as AppConfig
const layout = JSON.parse(read(LAYOUT_FILE)) as Layout
const generated = generateContract(config, layout, SOURCE_DEFINITIONS)
const files = [
  { file: CONFIG_FILE, text: formatContractFile(generated.config) },
  { file: LAYOUT_FILE, text: formatContractFile(generated.layout) },
  { file: RUN_BODY_TYPE_FILE, text: runBodyTypeSource(generated.config) },
]
const stale = files.filter((f) => read(f.file) !== f.text)
if (process.argv.includes('--check')) {
  for (const f of stale)
    console.error(`${f.file} is out of date with the source definitions (npm run contract rewrites it)`)
  process.exitCode = stale.length > 0 ? 1 : 0
} else {
  for (const f of stale) writeFileSync(join(root, f.file), f.text)
  console.log(`contract: ${stale.length} written, ${files.length - stale.length} already up to date`)
}
