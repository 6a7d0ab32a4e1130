/** The generator follows the contract: new params, keys and outputs show up in the component, and stay valid. */
import t, { type Test } from 'tap'
import { loadContract } from '../../src/contract/load.js'
import { findProjectRoot } from '../../src/contract/project-root.js'
import type { AppConfig } from '../../src/contract/types.js'
import { SOURCE_DEFINITIONS } from '../../src/sources/registry.js'
import { checkTemplateText } from '../../scripts/templates/check.js'
import {
  COMPONENT_IDS,
  buildComponent,
  outputExpression,
  componentDescription,
  paramsInLayoutOrder,
  runQuery,
} from '../../scripts/templates/component.js'
import type { KeyValueRow, PbxExport, PbxJob, PipeInputParam } from '../../scripts/templates/pbx.js'
import { formatTemplateProblem } from '../../scripts/templates/problems.js'
import { definitionVersionOf, renderTemplates } from '../../scripts/templates/render.js'
import { PLAYBOOK_IDS } from '../../scripts/templates/sample-playbook.js'

const { config, layout } = loadContract({ root: findProjectRoot(), sources: SOURCE_DEFINITIONS })
const withChanges = (change: (c: AppConfig) => void): AppConfig => {
  const c = structuredClone(config)
  change(c)
  return c
}
const render = (c: AppConfig) => {
  const [component, playbook] = renderTemplates(c).map((r) => JSON.parse(r.text) as PbxExport) as [PbxExport, PbxExport]
  return { component, playbook }
}
const inputsOf = (component: PbxExport): PipeInputParam[] =>
  JSON.parse(component.playbookTriggerList[0]?.pipeInputParams ?? '[]') as PipeInputParam[]
const job = (pbx: PbxExport, id: number): PbxJob => pbx.jobList.find((j) => j.id === id) as PbxJob
const param = (j: PbxJob, name: string): string | undefined =>
  j.jobParameterList.find((p) => p.appCatalogItemParameter.paramName === name)?.value
const clean = (t: Test, c: AppConfig): void => {
  for (const { file, text } of renderTemplates(c))
    t.same(checkTemplateText(text, c, file).map(formatTemplateProblem), [], `${file} is clean`)
}

t.test(
  'a new vendor key param: an encrypted keychain input, sent in its header, left unset by the sample',
  async (t) => {
    const c = withChanges((c) => {
      c.params.splice(3, 0, {
        name: 'shodan_api_key',
        label: 'Shodan API Key',
        type: 'String',
        encrypt: true,
        required: false,
      })
      c.params.find((p) => p.name === 'sources')?.validValues?.push('shodan')
    })
    clean(t, c)
    const { component, playbook } = render(c)
    const input = inputsOf(component).find((i) => i.name === 'shodan_api_key')
    t.match(input, { dataType: 'String', encrypted: true, required: false, validValuesList: ['${KEYCHAIN}'] })
    t.match(
      inputsOf(component).find((i) => i.name === 'sources'),
      { dataType: 'String', defaultValue: 'asn|watchlist|classify' },
      'the sources list is text, "|"-joined',
    )
    const post = job(component, COMPONENT_IDS.post)
    const headers = JSON.parse(param(post, 'headers') ?? '[]') as KeyValueRow[]
    t.same(
      headers.find((h) => h.key === 'X-Shodan-Key'),
      { key: 'X-Shodan-Key', value: '#Trigger:1:shodan_api_key!String' },
      'a whole keychain value in its own header',
    )
    const query = JSON.parse(param(post, 'params') ?? '[]') as KeyValueRow[]
    t.same(
      [...query.map((q) => q.key), ...headers.filter((h) => h.key.endsWith('-Key')).map((h) => h.key)].length,
      c.params.length,
      'every param is sent: the others as query params',
    )
    t.notOk(
      query.some((q) => q.key === 'shodan_api_key'),
      'a key is never a query param',
    )
    t.equal(param(post, 'body'), '{}', 'nor in the body')
    t.equal(param(job(playbook, PLAYBOOK_IDS.enrich), 'shodan_api_key'), undefined, 'no default: the user sets it')
  },
)

t.test('a hidden param stays hidden in the component', async (t) => {
  const c = withChanges((c) =>
    c.params.push({ name: 'platform_only', label: 'Platform only', type: 'String', hidden: true }),
  )
  clean(t, c)
  t.match(
    inputsOf(render(c).component).find((i) => i.name === 'platform_only'),
    { hidden: true, validValuesList: ['${TEXT}'] },
  )
})

t.test('a new output: mapped from the reply by the JMESPath rows of its type', async (t) => {
  const c = withChanges((c) => {
    c.playbook.outputVariables.push(
      { name: 'enrich.results.shodan.ports', type: 'StringArray' },
      { name: 'enrich.results.shodan.org', type: 'String' },
    )
  })
  clean(t, c)
  const { component } = render(c)
  const rows = (j: PbxJob, name: string): KeyValueRow[] => JSON.parse(param(j, name) ?? '[]') as KeyValueRow[]
  const map = job(component, COMPONENT_IDS.map)
  t.same(
    rows(map, 'string_array_expressions').find((r) => r.key === 'enrich.results.shodan.ports'),
    { key: 'enrich.results.shodan.ports', value: 'outputs.enrich.results.shodan.ports' },
  )
  t.same(
    rows(map, 'string_expressions').find((r) => r.key === 'enrich.results.shodan.org'),
    { key: 'enrich.results.shodan.org', value: 'outputs.enrich.results.shodan.org' },
  )
})

t.test('the embedded component is named by a digest of its content', async (t) => {
  const a = render(config)
  t.equal(definitionVersionOf(a.component), a.playbook.exportablePipes?.[0]?.definitionVersion)
  t.equal(job(a.playbook, PLAYBOOK_IDS.enrich).appCatalogItem.programName, definitionVersionOf(a.component))
  t.equal(definitionVersionOf(render(config).component), definitionVersionOf(a.component), 'same contract, same id')
  const changed = render(withChanges((c) => c.params.push({ name: 'extra', label: 'Extra', type: 'String' })))
  t.not(definitionVersionOf(changed.component), definitionVersionOf(a.component), 'another contract, another id')
})

t.test('only String and StringArray outputs can be mapped', async (t) => {
  const c = withChanges((c) => c.playbook.outputVariables.push({ name: 'enrich.results.pairs', type: 'KeyValueArray' }))
  t.throws(() => buildComponent(c), /String and StringArray outputs only, not enrich\.results\.pairs!KeyValueArray/)
})

t.test(
  'an output is read by the plain path of its name; each param not a secret is a whole-value query param',
  async (t) => {
    t.equal(outputExpression('enrich.results.asn.number'), 'outputs.enrich.results.asn.number')
    const query = new Map((JSON.parse(runQuery(config)) as KeyValueRow[]).map((r) => [r.key, r.value]))
    for (const p of config.params.filter((x) => x.encrypt !== true))
      t.match(query.get(p.name), new RegExp(`^#Trigger:1:${p.name}!String$`), p.name)
    t.equal(param(job(buildComponent(config, layout), COMPONENT_IDS.post), 'exclude_null_parameters'), 'true')
  },
)

t.test("the component's Description is written for a playbook author, not the contract's internals", async (t) => {
  const text = componentDescription(config)
  t.equal(buildComponent(config, layout).description, text)
  t.notMatch(text, /install\.json|not an installable app|specification/)
  for (const needed of ['enrich_service_url', 'enrich_run_token', 'enrich.results.verdict', 'Fail on Error'])
    t.match(text, needed)
})

t.test('inputs follow the layout; params it does not place come last, in contract order', async (t) => {
  const c = withChanges((c) => c.params.unshift({ name: 'unplaced', label: 'Unplaced', type: 'String', hidden: true }))
  const names = paramsInLayoutOrder(c, {
    inputs: [
      { sequence: 2, title: 'Configure', parameters: [{ name: 'write_note' }] },
      { sequence: 1, title: 'Action', parameters: [{ name: 'sources' }, { name: 'indicator' }] },
    ],
    outputs: [],
  }).map((p) => p.name)
  t.same(names.slice(0, 4), ['sources', 'indicator', 'write_note', 'unplaced'])
  t.same(new Set(names), new Set(c.params.map((p) => p.name)), 'none lost, none twice')
  t.equal(names.length, c.params.length)
  t.same(paramsInLayoutOrder(c, undefined), c.params, 'no layout: contract order')
  const inputs = inputsOf(buildComponent(config, layout)).map((i) => i.name)
  t.equal(
    inputs[0],
    layout.inputs.find((s) => s.sequence === Math.min(...layout.inputs.map((x) => x.sequence)))?.parameters[0]?.name,
  )
})
