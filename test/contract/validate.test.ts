import t from 'tap'
import { CONTRACT_RULES, validateContract } from '../../src/contract/validate.js'
import type { ContractRule, SourceOutputs } from '../../src/contract/validate.js'
import type { LayoutOutput, LayoutParameter, LayoutSection, OutputVariable, Param } from '../../src/contract/types.js'
import { FILES, FIXTURE_SOURCES, keys, validContract } from './fixtures/contract.js'
import type { FixtureContract } from './fixtures/contract.js'

const param = (c: FixtureContract, name: string): Param => {
  const found = c.config.params.find((p) => p.name === name)
  if (found === undefined) throw new Error(`fixture has no param ${name}`)
  return found
}
const section = (c: FixtureContract, title: string): LayoutSection => {
  const found = c.layout.inputs.find((s) => s.title === title)
  if (found === undefined) throw new Error(`fixture has no section ${title}`)
  return found
}
const layoutParam = (c: FixtureContract, name: string): LayoutParameter => {
  const found = c.layout.inputs.flatMap((s) => s.parameters).find((p) => p.name === name)
  if (found === undefined) throw new Error(`fixture layout has no input ${name}`)
  return found
}
const layoutOutput = (c: FixtureContract, name: string): LayoutOutput => {
  const found = c.layout.outputs.find((o) => o.name === name)
  if (found === undefined) throw new Error(`fixture layout has no output ${name}`)
  return found
}
const outputs = (c: FixtureContract): OutputVariable[] => c.config.playbook.outputVariables
/** Declares an output and lists it in the layout, as an edit of both files would. */
const addOutput = (c: FixtureContract, name: string): void => {
  outputs(c).push({ name, type: 'String' })
  c.layout.outputs.push({ name })
}
/** Loosens the types, for breaks the types would not allow (as a hand-edited JSON file would). */
const loose = (value: object): Record<string, unknown> => value as Record<string, unknown>

interface Row {
  readonly name: string
  /** Breaks the contract in place, or returns a replacement. */
  readonly broken: (c: FixtureContract) => void | FixtureContract
  readonly rule: ContractRule
  readonly file: 'config' | 'layout'
  readonly entry: string
  /** Rules the same break legitimately trips too (the found rule set must equal rule + these). */
  readonly alsoRules?: readonly ContractRule[]
  /** The registry passed in (default FIXTURE_SOURCES). */
  readonly sources?: readonly SourceOutputs[]
}

const ROWS: readonly Row[] = [
  // config
  {
    name: 'programVersion not semver',
    broken: (c) => void (c.config.programVersion = '1.0'),
    rule: 'config-program-version',
    file: 'config',
    entry: 'programVersion',
  },
  {
    name: 'programVersion with a v',
    broken: (c) => void (c.config.programVersion = 'v1.0.0'),
    rule: 'config-program-version',
    file: 'config',
    entry: 'programVersion',
  },
  {
    name: 'runtimeLevel not Playbook',
    broken: (c) => void (c.config.runtimeLevel = 'Organization'),
    rule: 'config-runtime-level',
    file: 'config',
    entry: 'runtimeLevel',
  },
  {
    name: 'listDelimiter a comma',
    broken: (c) => void (c.config.listDelimiter = ','),
    rule: 'config-list-delimiter',
    file: 'config',
    entry: 'listDelimiter',
  },
  {
    name: 'displayName blank',
    broken: (c) => void (c.config.displayName = '  '),
    rule: 'config-display-name',
    file: 'config',
    entry: 'displayName',
  },
  {
    name: 'appId not a uuid',
    broken: (c) => void (c.config.appId = '6f1c2f0e-8a43-4d6b-9c59'),
    rule: 'config-app-id',
    file: 'config',
    entry: 'appId',
  },
  {
    name: 'features without layoutEnabledApp',
    broken: (c) => void (c.config.features = ['runtimeVariables']),
    rule: 'config-layout-feature',
    file: 'config',
    entry: 'features',
  },
  {
    name: 'features missing',
    broken: (c) => void delete loose(c.config).features,
    rule: 'config-layout-feature',
    file: 'config',
    entry: 'features',
  },
  {
    name: 'playbook.type missing',
    broken: (c) => void delete loose(c.config.playbook).type,
    rule: 'config-playbook-type',
    file: 'config',
    entry: 'playbook.type',
  },
  {
    name: 'languageVersion missing',
    broken: (c) => void delete loose(c.config).languageVersion,
    rule: 'config-language-version',
    file: 'config',
    entry: 'languageVersion',
  },

  // params
  {
    name: 'param name with capitals and a dash',
    broken: (c) => void (param(c, 'internal_mode').name = 'Internal-Mode'),
    rule: 'param-name',
    file: 'config',
    entry: "params[4] 'Internal-Mode'",
  },
  {
    name: 'param name repeated',
    broken: (c) => void (param(c, 'internal_mode').name = 'indicator'),
    rule: 'param-duplicate-name',
    file: 'config',
    entry: "params[4] 'indicator'",
  },
  {
    name: 'param sequence repeated',
    broken: (c) => void (param(c, 'write_note').sequence = 1),
    rule: 'param-duplicate-sequence',
    file: 'config',
    entry: "params[3] 'write_note'",
  },
  {
    name: 'param type unknown',
    broken: (c) => void (loose(param(c, 'indicator')).type = 'Text'),
    rule: 'param-type',
    file: 'config',
    entry: "params[1] 'indicator'",
  },
  {
    name: 'playbookDataType unknown',
    broken: (c) => void (loose(param(c, 'indicator')).playbookDataType = ['String', 'Strings']),
    rule: 'param-playbook-data-type',
    file: 'config',
    entry: "params[1] 'indicator'",
  },
  {
    name: 'Choice without validValues',
    broken: (c) => void (param(c, 'tc_action').validValues = []),
    rule: 'param-valid-values',
    file: 'config',
    entry: "params[0] 'tc_action'",
  },
  {
    name: 'MultiChoice validValues missing',
    broken: (c) => void (param(c, 'sources').validValues = undefined),
    rule: 'param-valid-values',
    file: 'config',
    entry: "params[2] 'sources'",
    alsoRules: ['sources-param-values'],
  },
  {
    name: 'Choice default not a valid value',
    broken: (c) => void (param(c, 'tc_action').default = 'Delete'),
    rule: 'param-choice-default',
    file: 'config',
    entry: "params[0] 'tc_action'",
  },
  {
    name: 'Choice default differs in case',
    broken: (c) => void (param(c, 'tc_action').default = 'enrich'),
    rule: 'param-choice-default',
    file: 'config',
    entry: "params[0] 'tc_action'",
  },
  {
    name: 'Choice default a number',
    broken: (c) => void (param(c, 'tc_action').default = 1),
    rule: 'param-choice-default',
    file: 'config',
    entry: "params[0] 'tc_action'",
  },
  {
    name: 'MultiChoice default has an unknown item',
    broken: (c) => void (param(c, 'sources').default = 'asn|whois'),
    rule: 'param-multichoice-default',
    file: 'config',
    entry: "params[2] 'sources'",
  },
  {
    name: 'MultiChoice default joined with a comma',
    broken: (c) => void (param(c, 'sources').default = 'asn,geo'),
    rule: 'param-multichoice-default',
    file: 'config',
    entry: "params[2] 'sources'",
  },
  {
    name: 'Boolean default a string',
    broken: (c) => void (param(c, 'write_note').default = 'true'),
    rule: 'param-boolean-default',
    file: 'config',
    entry: "params[3] 'write_note'",
  },
  {
    name: 'secret offering typed text',
    broken: (c) => void (param(c, 'geo_api_key').validValues = ['${KEYCHAIN}', '${TEXT}']),
    rule: 'param-secret-keychain',
    file: 'config',
    entry: "params[5] 'geo_api_key'",
  },
  {
    name: 'secret without validValues',
    broken: (c) => void delete param(c, 'geo_api_key').validValues,
    rule: 'param-secret-keychain',
    file: 'config',
    entry: "params[5] 'geo_api_key'",
  },
  {
    name: 'required param hidden',
    broken: (c) => void (param(c, 'internal_mode').required = true),
    rule: 'param-required-hidden',
    file: 'config',
    entry: "params[4] 'internal_mode'",
  },

  // outputs
  ...[
    'Enrich.score',
    'enrich.results.riskScore',
    'enrich..score',
    'results.score',
    'enrich.results.risk-score',
    'enrich.results.score.',
    'enrich.score',
    'enrich.raw.json',
  ].map((name): Row => ({
    name: `output name '${name}' breaks the naming schema`,
    broken: (c) => addOutput(c, name),
    rule: 'output-name',
    file: 'config',
    entry: `playbook.outputVariables[7] '${name}'`,
  })),
  {
    name: 'output type unknown',
    broken: (c) => void (loose(outputs(c)[1] as object).type = 'Json'),
    rule: 'output-type',
    file: 'config',
    entry: "playbook.outputVariables[1] 'enrich.results.json'",
  },
  {
    name: 'output name and type repeated',
    broken: (c) => void outputs(c).push({ name: 'enrich.results.indicators', type: 'StringArray' }),
    rule: 'output-duplicate',
    file: 'config',
    entry: "playbook.outputVariables[7] 'enrich.results.indicators'",
  },
  {
    name: 'output declared with a second type',
    broken: (c) => void outputs(c).push({ name: 'enrich.results.indicators', type: 'String' }),
    rule: 'output-one-type',
    file: 'config',
    entry: "playbook.outputVariables[7] 'enrich.results.indicators'",
  },
  {
    name: 'output name extends another output',
    broken: (c) => addOutput(c, 'enrich.results.verdict.reason'),
    rule: 'output-prefix',
    file: 'config',
    entry: "playbook.outputVariables[7] 'enrich.results.verdict.reason'",
  },

  // layout sections and inputs
  {
    name: 'section title too short',
    broken: (c) => void (section(c, 'Action').title = 'Go'),
    rule: 'layout-section-title',
    file: 'layout',
    entry: "inputs[1] 'Go'",
  },
  {
    name: 'section title too long',
    broken: (c) => void (section(c, 'Action').title = 'A'.repeat(101)),
    rule: 'layout-section-title',
    file: 'layout',
    entry: `inputs[1] '${'A'.repeat(101)}'`,
  },
  {
    name: 'section sequence repeated',
    broken: (c) => void c.layout.inputs.push({ sequence: 2, title: 'Advanced', parameters: [] }),
    rule: 'layout-section-sequence',
    file: 'layout',
    entry: "inputs[2] 'Advanced'",
  },
  {
    name: 'layout input not a param',
    broken: (c) => void section(c, 'Action').parameters.push({ name: 'ghost' }),
    rule: 'layout-input-is-param',
    file: 'layout',
    entry: "inputs[1].parameters[2] 'ghost'",
  },
  {
    name: 'layout input hidden',
    broken: (c) => void section(c, 'Action').parameters.push({ name: 'internal_mode' }),
    rule: 'layout-input-hidden',
    file: 'layout',
    entry: "inputs[1].parameters[2] 'internal_mode'",
  },
  {
    name: 'param placed twice',
    broken: (c) => void section(c, 'Configure').parameters.push({ name: 'indicator' }),
    rule: 'layout-input-duplicate',
    file: 'layout',
    entry: "inputs[0].parameters[3] 'indicator'",
  },
  {
    name: 'non-hidden param not placed',
    broken: (c) => void section(c, 'Configure').parameters.splice(1, 1),
    rule: 'layout-param-missing',
    file: 'config',
    entry: "params[3] 'write_note'",
    // the output clause that reads write_note now references an input the layout lacks
    alsoRules: ['display-clause-unknown-input'],
  },
  {
    name: 'param made hidden but still placed',
    broken: (c) => void ((param(c, 'indicator').hidden = true), (param(c, 'indicator').required = false)),
    rule: 'layout-input-hidden',
    file: 'layout',
    entry: "inputs[1].parameters[1] 'indicator'",
  },

  // layout outputs
  {
    name: 'layout output not declared',
    broken: (c) => void c.layout.outputs.push({ name: 'enrich.results.extra' }),
    rule: 'layout-output-declared',
    file: 'layout',
    entry: "outputs[7] 'enrich.results.extra'",
  },
  {
    name: 'layout output listed twice',
    broken: (c) => void c.layout.outputs.push({ name: 'enrich.results.verdict' }),
    rule: 'layout-output-duplicate',
    file: 'layout',
    entry: "outputs[7] 'enrich.results.verdict'",
  },
  {
    name: 'declared output not in layout',
    broken: (c) => void c.layout.outputs.splice(1, 1),
    rule: 'layout-output-missing',
    file: 'config',
    entry: "playbook.outputVariables[1] 'enrich.results.json'",
  },
  {
    name: 'a list output missing from layout is reported',
    broken: (c) => void c.layout.outputs.splice(2, 1),
    rule: 'layout-output-missing',
    file: 'config',
    entry: "playbook.outputVariables[2] 'enrich.results.indicators'",
  },

  // display clauses
  ...[
    "tc_action = 'Enrich'",
    "lower(tc_action) in ('enrich')",
    "(tc_action in ('Enrich')",
    "tc_action in ('Enrich'))",
    'tc_action in ("Enrich")',
    "tc_action in ('Enrich') and",
    '',
  ].map((display): Row => ({
    name: `input clause does not parse: ${display || '(empty)'}`,
    broken: (c) => void (layoutParam(c, 'indicator').display = display),
    rule: 'display-clause-syntax',
    file: 'layout',
    entry: "inputs[1].parameters[1] 'indicator'",
  })),
  {
    name: 'output clause does not parse',
    broken: (c) => void (layoutOutput(c, 'enrich.results.verdict').display = 'tc_action <> 1'),
    rule: 'display-clause-syntax',
    file: 'layout',
    entry: "outputs[0] 'enrich.results.verdict'",
  },
  {
    name: 'output clause references an unknown input',
    broken: (c) => void (layoutOutput(c, 'enrich.results.verdict').display = "mode in ('x')"),
    rule: 'display-clause-unknown-input',
    file: 'layout',
    entry: "outputs[0] 'enrich.results.verdict'",
  },
  {
    name: 'input clause references a hidden param',
    broken: (c) => void (layoutParam(c, 'sources').display = "internal_mode not in ('')"),
    rule: 'display-clause-unknown-input',
    file: 'layout',
    entry: "inputs[0].parameters[0] 'sources'",
    alsoRules: ['display-clause-param-type'],
  },
  {
    name: 'input clause references a later input',
    broken: (c) => void (layoutParam(c, 'tc_action').display = "write_note in ('true')"),
    rule: 'display-clause-order',
    file: 'layout',
    entry: "inputs[1].parameters[0] 'tc_action'",
  },
  {
    name: 'input clause references itself',
    broken: (c) => void (layoutParam(c, 'tc_action').display = "tc_action not in ('')"),
    rule: 'display-clause-order',
    file: 'layout',
    entry: "inputs[1].parameters[0] 'tc_action'",
  },
  {
    // Configure holds sources and write_note; with Configure moved first, sources' clause reads tc_action before it is
    // placed.
    name: 'section order follows sequence, not array order',
    broken: (c) => {
      section(c, 'Configure').sequence = 0
      delete layoutParam(c, 'write_note').display
    },
    rule: 'display-clause-order',
    file: 'layout',
    entry: "inputs[0].parameters[0] 'sources'",
  },
  {
    name: 'clause value not a Choice value',
    broken: (c) => void (layoutParam(c, 'sources').display = "tc_action in ('Enrich', 'Delete')"),
    rule: 'display-clause-value',
    file: 'layout',
    entry: "inputs[0].parameters[0] 'sources'",
  },
  {
    name: 'clause tests a MultiChoice',
    broken: (c) => void (layoutOutput(c, 'enrich.results.verdict').display = "sources in ('asn')"),
    rule: 'display-clause-param-type',
    file: 'layout',
    entry: "outputs[0] 'enrich.results.verdict'",
  },
  {
    name: 'clause tests a String',
    broken: (c) => void (layoutOutput(c, 'enrich.results.verdict').display = "indicator in ('x')"),
    rule: 'display-clause-param-type',
    file: 'layout',
    entry: "outputs[0] 'enrich.results.verdict'",
  },
  {
    name: 'clause value not a Boolean value',
    broken: (c) => void (layoutOutput(c, 'enrich.results.verdict').display = "write_note in ('yes')"),
    rule: 'display-clause-value',
    file: 'layout',
    entry: "outputs[0] 'enrich.results.verdict'",
  },

  // per-source checks
  {
    name: 'sources param not a MultiChoice',
    broken: (c) => void Object.assign(param(c, 'sources'), { type: 'Choice', default: 'asn' }),
    rule: 'sources-param',
    file: 'config',
    entry: "params[2] 'sources'",
  },
  {
    name: 'sources param missing',
    broken: (c) => JSON.parse(JSON.stringify(c).replaceAll('sources', 'feeds')) as FixtureContract,
    rule: 'sources-param',
    file: 'config',
    entry: "params 'sources'",
  },
  {
    name: 'sources validValues has an unknown id',
    broken: (c) => void param(c, 'sources').validValues?.push('whois'),
    rule: 'sources-param-values',
    file: 'config',
    entry: "params[2] 'sources'",
  },
  {
    name: 'registry has a source the sources param lacks',
    broken: () => undefined,
    sources: [...FIXTURE_SOURCES, { id: 'dns', outputs: keys() }],
    rule: 'sources-param-values',
    file: 'config',
    entry: "params[2] 'sources'",
  },
  {
    name: 'source publishes an undeclared output',
    broken: () => undefined,
    sources: [
      { id: 'asn', outputs: keys('number', 'org', 'country') },
      { id: 'geo', outputs: keys('country'), kind: 'vendor' },
    ],
    rule: 'source-output-declared',
    file: 'config',
    entry: "playbook.outputVariables 'enrich.results.asn.country'",
  },
  {
    name: 'declared per-source output the source does not publish',
    broken: () => undefined,
    sources: [
      { id: 'asn', outputs: keys('number') },
      { id: 'geo', outputs: keys('country'), kind: 'vendor' },
    ],
    rule: 'source-output-owned',
    file: 'config',
    entry: "playbook.outputVariables[4] 'enrich.results.asn.org'",
  },
  {
    name: 'vendor source without its raw-answer output',
    broken: (c) => {
      c.config.playbook.outputVariables = outputs(c).filter((o) => o.name !== 'enrich.response.geo.json')
      c.layout.outputs = c.layout.outputs.filter((o) => o.name !== 'enrich.response.geo.json')
    },
    rule: 'source-output-declared',
    file: 'config',
    entry: "playbook.outputVariables 'enrich.response.geo.json'",
  },
  {
    name: 'raw-answer output for an embedded source',
    broken: (c) => addOutput(c, 'enrich.response.asn.json'),
    rule: 'source-output-owned',
    file: 'config',
    entry: "playbook.outputVariables[7] 'enrich.response.asn.json'",
  },

  // structure
  {
    name: 'params not an array',
    broken: (c) => void (loose(c.config).params = {}),
    rule: 'config-shape',
    file: 'config',
    entry: 'params',
  },
  {
    name: 'outputVariables missing',
    broken: (c) => void delete loose(c.config.playbook).outputVariables,
    rule: 'config-shape',
    file: 'config',
    entry: 'playbook.outputVariables',
  },
  {
    name: 'param without a name',
    broken: (c) => void delete loose(param(c, 'indicator')).name,
    rule: 'config-shape',
    file: 'config',
    entry: 'params[1]',
  },
  {
    name: 'validValues not a list',
    broken: (c) => void (loose(param(c, 'sources')).validValues = 'asn|geo'),
    rule: 'config-shape',
    file: 'config',
    entry: "params[2] 'sources'",
  },
  {
    name: 'layout outputs missing',
    broken: (c) => void delete loose(c.layout).outputs,
    rule: 'layout-shape',
    file: 'layout',
    entry: 'outputs',
  },
  {
    name: 'layout input a bare string',
    broken: (c) => void ((section(c, 'Configure').parameters as unknown[])[0] = 'sources'),
    rule: 'layout-shape',
    file: 'layout',
    entry: 'inputs[0].parameters[0]',
  },
  {
    name: 'section sequence a string',
    broken: (c) => void (loose(section(c, 'Action')).sequence = '1'),
    rule: 'layout-shape',
    file: 'layout',
    entry: 'inputs[1]',
  },
  {
    name: 'display not a string',
    broken: (c) => void (loose(layoutOutput(c, 'enrich.results.verdict')).display = true),
    rule: 'layout-shape',
    file: 'layout',
    entry: "outputs[0] 'enrich.results.verdict'",
  },
]

/** `null` runs without the registry (undefined would pick the default). */
const validate = (c: FixtureContract, sources: readonly SourceOutputs[] | null = FIXTURE_SOURCES) =>
  validateContract(c.config, c.layout, FILES, sources ?? undefined)

t.test('the fixture contract is valid, with and without the source registry', async (t) => {
  t.same(validate(validContract()), [])
  t.same(validate(validContract(), null), [])
})

t.test('each broken contract is reported with its rule, file and entry', async (t) => {
  for (const row of ROWS) {
    t.test(row.name, async (t) => {
      const fixture = validContract()
      const contract = row.broken(fixture) ?? fixture
      const problems = validate(contract, row.sources ?? FIXTURE_SOURCES)
      const match = problems.find((p) => p.rule === row.rule && p.file === FILES[row.file] && p.entry === row.entry)
      t.ok(match, `expected ${row.rule} at ${FILES[row.file]}: ${row.entry}`, { found: problems })
      t.same(
        new Set(problems.map((p) => p.rule)),
        new Set([row.rule, ...(row.alsoRules ?? [])]),
        'no unrelated rule fires',
      )
      t.equal(problems.filter((p) => p.rule === row.rule).length, 1, 'reported once')
      for (const p of problems) t.ok(p.message.length > 0, 'every problem has a message')
    })
  }
})

t.test('every validation rule has a row (load rules are covered in load.test.ts)', async (t) => {
  const covered = new Set(ROWS.map((r) => r.rule))
  const loadRules = new Set(['file-missing', 'file-unreadable', 'json-syntax'])
  const uncovered = Object.keys(CONTRACT_RULES).filter(
    (rule) => !covered.has(rule as ContractRule) && !loadRules.has(rule),
  )
  t.same(uncovered, [])
  for (const rule of Object.keys(CONTRACT_RULES)) t.match(rule, /^[a-z]+(-[a-z]+)*$/, `${rule} is kebab-case`)
})

t.test('returns every problem, not just the first', async (t) => {
  const c = validContract()
  c.config.programVersion = 'one'
  param(c, 'tc_action').default = 'Delete'
  section(c, 'Action').title = 'Go'
  layoutOutput(c, 'enrich.results.verdict').display = 'tc_action ='
  const rules = validate(c).map((p) => p.rule)
  t.same(rules.sort(), [
    'config-program-version',
    'display-clause-syntax',
    'layout-section-title',
    'param-choice-default',
  ])
})

t.test('the per-source checks run only when the registry is given', async (t) => {
  const c = validContract()
  addOutput(c, 'enrich.results.asn.country')
  param(c, 'sources').validValues = ['asn', 'geo', 'whois']
  t.same(validate(c, null), [])
  t.same(
    validate(c)
      .map((p) => p.rule)
      .sort(),
    ['source-output-owned', 'sources-param-values'],
  )
})

t.test('accepted variations', async (t) => {
  const cases: Record<string, (c: FixtureContract) => void> = {
    'a Choice default that is a ${...} special': (c) => void (param(c, 'tc_action').default = '${TEXT}'),
    'a Choice over ${OWNERS} with any default, tested for any value': (c) => {
      c.config.params.push({
        name: 'owner',
        label: 'Owner',
        type: 'Choice',
        validValues: ['${OWNERS}'],
        default: 'Acme',
      })
      section(c, 'Action').parameters.push({ name: 'owner' })
      layoutOutput(c, 'enrich.results.verdict').display = "owner in ('Acme Corp')"
    },
    'an empty MultiChoice default': (c) => void (param(c, 'sources').default = ''),
    'a single-item MultiChoice default': (c) => void (param(c, 'sources').default = 'geo'),
    'a Boolean default false': (c) => void (param(c, 'write_note').default = false),
    'a semver with pre-release and build': (c) => void (c.config.programVersion = '2.0.0-rc.1+build.5'),
    'an upper-case uuid': (c) => void (c.config.appId = c.config.appId.toUpperCase()),
    "'' in a Choice clause (the always idiom)": (c) =>
      void (layoutParam(c, 'indicator').display = "tc_action not in ('')"),
    'a clause on an output reading the last input': (c) =>
      void (layoutOutput(c, 'enrich.results.verdict').display = "write_note in ('false')"),
    'params without sequence numbers': (c) => c.config.params.forEach((p) => delete p.sequence),
    'a section with no parameters': (c) =>
      void c.layout.inputs.push({ sequence: 9, title: 'Advanced', parameters: [] }),
    'a hidden param with a default, out of the layout': (c) => void (param(c, 'internal_mode').default = 'x'),
  }
  for (const [name, change] of Object.entries(cases)) {
    const c = validContract()
    change(c)
    t.same(validate(c), [], name)
  }
})

t.test('messages name the offending values', async (t) => {
  const c = validContract()
  param(c, 'sources').default = 'asn|whois'
  layoutOutput(c, 'enrich.results.verdict').display = "tc_action in ('Delete')"
  const [defaultProblem, clauseProblem] = validate(c)
  t.match(defaultProblem?.message, /'whois'/)
  t.match(clauseProblem?.message, /'Delete'.*'Enrich', 'Lookup'/)
})

t.test('validation does not mutate its input', async (t) => {
  const c = validContract()
  const before = JSON.stringify(c)
  validate(c)
  t.equal(JSON.stringify(c), before)
})
