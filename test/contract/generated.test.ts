/**
 * The source-driven parts of the contract are generated from the source definitions (npm run contract): the
 * committed files are what the registry gives, and adding a source is its definition plus a registry line.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { findProjectRoot } from '../../src/contract/project-root.js'
import type { AppConfig, Layout } from '../../src/contract/types.js'
import { validateContract } from '../../src/contract/validate.js'
import { SOURCE_DEFINITIONS } from '../../src/sources/registry.js'
import type { SourceDefinition } from '../../src/sources/types.js'
import { vendorSettings } from '../../src/sources/vendor-kit.js'
import { formatContractFile, generateContract } from '../../scripts/contract/generate.js'
import { RUN_BODY_TYPE_FILE, runBodyTypeSource } from '../../scripts/contract/run-body-type.js'

const root = findProjectRoot()
const configText = readFileSync(join(root, 'app.config.json'), 'utf8')
const layoutText = readFileSync(join(root, 'layouts/layout.json'), 'utf8')
const config = JSON.parse(configText) as AppConfig
const layout = JSON.parse(layoutText) as Layout

t.test('the committed contract is what the source definitions give (npm run contract rewrites it)', async (t) => {
  const generated = generateContract(config, layout, SOURCE_DEFINITIONS)
  t.equal(formatContractFile(generated.config), configText, 'app.config.json')
  t.equal(formatContractFile(generated.layout), layoutText, 'layouts/layout.json')
  t.equal(runBodyTypeSource(generated.config), readFileSync(join(root, RUN_BODY_TYPE_FILE), 'utf8'), RUN_BODY_TYPE_FILE)
})

t.test("the run body's static type follows the params: a param renamed or retyped changes the type", async (t) => {
  const renamed: AppConfig = {
    ...config,
    params: config.params.map((p) => (p.name === 'write_note' ? { ...p, name: 'post_note' } : p)),
  }
  const text = runBodyTypeSource(renamed)
  t.match(text, /readonly post_note\?: boolean \| 'true' \| 'false'\n/)
  t.notMatch(text, /write_note/)
  t.match(
    runBodyTypeSource(config),
    /readonly indicator: string \| TCEntity \| readonly \(string \| TCEntity\)\[\]/,
    'required: no ?',
  )
})

t.test(
  'a new vendor source: its definition and a registry line give its param, outputs and layout, and a valid contract',
  async (t) => {
    const shodan: SourceDefinition = {
      id: 'shodan',
      title: 'Shodan',
      kind: 'vendor',
      description: 'test source',
      supports: ['Address'],
      settings: vendorSettings('shodan', 'Shodan', 'http://127.0.0.1:9', [{ requests: 1, perMs: 1000 }]),
      outputs: [
        { key: 'ports', type: 'StringArray', note: 'Shodan: open ports.' },
        { key: 'org', type: 'String', note: 'Shodan: organisation.' },
      ],
      start: () => Promise.reject(new Error('not started in this test')),
    }
    const sources = [...SOURCE_DEFINITIONS, shodan]
    const generated = generateContract(config, layout, sources)
    const param = generated.config.params.find((p) => p.name === 'shodan_api_key')
    t.match(param, { type: 'String', encrypt: true, validValues: ['${KEYCHAIN}'], label: 'Shodan API Key' })
    t.ok(
      generated.config.params.find((p) => p.name === 'sources')?.validValues?.includes('shodan'),
      'offered in sources',
    )
    const names = generated.config.playbook.outputVariables.map((o) => `${o.name}!${o.type}`)
    for (const n of [
      'enrich.results.shodan.ports!StringArray',
      'enrich.results.shodan.org!String',
      'enrich.response.shodan.json!String',
    ])
      t.ok(names.includes(n), n)
    t.ok(
      generated.layout.inputs
        .find((s) => s.title === 'Connection')
        ?.parameters.some((p) => p.name === 'shodan_api_key'),
      'the key in Connection',
    )
    t.ok(
      generated.layout.outputs.some((o) => o.name === 'enrich.response.shodan.json'),
      'its outputs in the layout',
    )
    const sequences = generated.config.params.map((p) => p.sequence)
    t.same(
      sequences,
      sequences.map((_, i) => i + 1),
      'sequences renumbered without gaps',
    )
    t.same(
      validateContract(
        generated.config,
        generated.layout,
        { config: 'app.config.json', layout: 'layouts/layout.json' },
        sources,
      ),
      [],
    )
    const again = generateContract(generated.config, generated.layout, sources)
    t.same(again, generated, 'generating twice changes nothing')
  },
)
