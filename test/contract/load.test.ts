import t from 'tap'
import type { Test } from 'tap'
import { ContractError, formatContractProblem } from '../../src/errors.js'
import { describeContract, jsonErrorOffset, loadContract } from '../../src/contract/load.js'
import { FIXTURE_SOURCES, keys, validContract } from './fixtures/contract.js'

const json = (value: unknown): string => JSON.stringify(value, null, 2)

/** A project folder holding the given app.config.json / layouts/layout.json texts (omitted: not written). */
const project = (t: Test, files: { config?: string; layout?: string }): string =>
  t.testdir({
    ...(files.config === undefined ? {} : { 'app.config.json': files.config }),
    layouts: files.layout === undefined ? {} : { 'layout.json': files.layout },
  })

const validProject = (t: Test): string => {
  const { config, layout } = validContract()
  return project(t, { config: json(config), layout: json(layout) })
}

const contractError = (t: Test, load: () => unknown): ContractError => {
  try {
    load()
  } catch (error) {
    if (error instanceof ContractError) return error
    throw error
  }
  t.fail('expected a ContractError')
  return new ContractError([])
}

t.test('loads a valid contract, naming the files relative to the root', async (t) => {
  const root = validProject(t)
  const contract = loadContract({ root, sources: FIXTURE_SOURCES })
  t.same(contract.files, { config: 'app.config.json', layout: 'layouts/layout.json' })
  t.same(contract.config, validContract().config)
  t.same(contract.layout, validContract().layout)
  t.equal(describeContract(contract), 'contract OK: 6 params, 7 outputs')
})

t.test('a leading byte-order mark is accepted', async (t) => {
  const { config, layout } = validContract()
  const root = project(t, { config: `\uFEFF${json(config)}`, layout: json(layout) })
  t.equal(loadContract({ root }).config.displayName, config.displayName)
})

t.test('validation problems are thrown together as a ContractError', async (t) => {
  const { config, layout } = validContract()
  config.programVersion = 'one'
  layout.outputs.push({ name: 'enrich.results.extra' })
  const root = project(t, { config: json(config), layout: json(layout) })
  const error = contractError(t, () => loadContract({ root }))
  t.same(
    error.problems.map((p) => [p.file, p.rule]),
    [
      ['app.config.json', 'config-program-version'],
      ['layouts/layout.json', 'layout-output-declared'],
    ],
  )
  t.match(error.message, /contract check failed \(2 problems\)/)
  t.match(error.message, "layouts/layout.json: outputs[7] 'enrich.results.extra': ")
})

t.test('the source registry turns on the per-source checks', async (t) => {
  const root = validProject(t)
  t.doesNotThrow(() => loadContract({ root }))
  const error = contractError(t, () =>
    loadContract({ root, sources: [...FIXTURE_SOURCES, { id: 'dns', outputs: keys('a') }] }),
  )
  t.same(error.problems.map((p) => p.rule).sort(), ['source-output-declared', 'sources-param-values'])
})

t.test('JSON syntax errors name the file, line and column', async (t) => {
  const { layout } = validContract()
  const cases: [name: string, text: string, entry: string][] = [
    ['trailing comma (V8 names the position)', '{\n  "a": 1,\n}', 'line 3 column 1'],
    ['bad literal (V8 names no position)', '{\n  "a": 1,\n  "b": tru\n}', 'line 3 column 11'],
    ['bad literal on one line', '{"a":tru}', 'line 1 column 9'],
    ['cut short', '{\n "a": 1', 'line 2 column 8'],
    ['empty file', '', 'line 1 column 1'],
    ['text after the value', '{}\n}', 'line 2 column 1'],
  ]
  for (const [name, text, entry] of cases) {
    const root = project(t, { config: text, layout: json(layout) })
    const error = contractError(t, () => loadContract({ root }))
    t.same(
      error.problems.map((p) => ({ file: p.file, entry: p.entry, rule: p.rule })),
      [{ file: 'app.config.json', entry, rule: 'json-syntax' }],
      name,
    )
    t.match(error.problems[0]?.message, /^invalid JSON: /)
  }
})

t.test('jsonErrorOffset finds the character JSON.parse choked on', async (t) => {
  const offsetOf = (text: string): number => {
    try {
      JSON.parse(text)
    } catch (error) {
      return jsonErrorOffset(text, error)
    }
    throw new Error(`${text} parsed`)
  }
  t.equal(offsetOf('[1, 2, x]'), 7)
  t.equal(offsetOf('{"a": [true, fals]}'), 17)
  t.equal(offsetOf('{"a": "b" "c"}'), 10)
  t.equal(offsetOf('[1, 2'), 5)
})

t.test('both files broken: both problems reported', async (t) => {
  const root = project(t, { config: '{', layout: '[' })
  const error = contractError(t, () => loadContract({ root }))
  t.same(
    error.problems.map((p) => `${p.file} ${p.rule}`),
    ['app.config.json json-syntax', 'layouts/layout.json json-syntax'],
  )
})

t.test('missing or unreadable files', async (t) => {
  const { config, layout } = validContract()
  const noLayout = contractError(t, () => loadContract({ root: project(t, { config: json(config) }) }))
  t.same(
    noLayout.problems.map((p) => [p.file, p.rule]),
    [['layouts/layout.json', 'file-missing']],
  )
  t.match(
    formatContractProblem(noLayout.problems[0]!),
    /^layouts\/layout\.json: \(file\): not found in .* \[rule file-missing\]$/,
  )

  const noConfig = contractError(t, () => loadContract({ root: project(t, { layout: json(layout) }) }))
  t.same(
    noConfig.problems.map((p) => [p.file, p.rule]),
    [['app.config.json', 'file-missing']],
  )

  // A folder where the file should be cannot be read as a file.
  const root = t.testdir({ 'app.config.json': { 'oops.txt': '' }, layouts: { 'layout.json': json(layout) } })
  const unreadable = contractError(t, () => loadContract({ root }))
  t.same(
    unreadable.problems.map((p) => [p.file, p.rule]),
    [['app.config.json', 'file-unreadable']],
  )
})

t.test('a structurally wrong file is reported, not crashed on', async (t) => {
  const root = project(t, { config: '[]', layout: '{"inputs": {}, "outputs": []}' })
  const error = contractError(t, () => loadContract({ root }))
  t.same(
    error.problems.map((p) => [p.file, p.entry, p.rule]),
    [
      ['app.config.json', '(top level)', 'config-shape'],
      ['layouts/layout.json', 'inputs', 'layout-shape'],
    ],
  )
})
