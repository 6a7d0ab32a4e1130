/**
 * The template checker on mutated copies: each mutation breaks one thing and must be reported under its rule.
 * Copies come from the committed files and from templates generated from the contract as it is now.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadContract } from '../../src/contract/load.js'
import { findProjectRoot } from '../../src/contract/project-root.js'
import type { AppConfig } from '../../src/contract/types.js'
import { SOURCE_DEFINITIONS } from '../../src/sources/registry.js'
import { checkTemplate, checkTemplateText } from '../../scripts/templates/check.js'
import { COMPONENT_IDS } from '../../scripts/templates/component.js'
import type { PbxExport, PbxJob, PipeInputParam, PipeOutputParam } from '../../scripts/templates/pbx.js'
import { formatTemplateProblem, type TemplateProblem } from '../../scripts/templates/problems.js'
import { COMPONENT_FILE, PLAYBOOK_FILE, renderTemplates, unpackPbxz } from '../../scripts/templates/render.js'
import { PLAYBOOK_IDS } from '../../scripts/templates/sample-playbook.js'

const root = findProjectRoot()
const { config, layout } = loadContract({ root, sources: SOURCE_DEFINITIONS })
const committed = {
  component: unpackPbxz(readFileSync(join(root, COMPONENT_FILE))),
  playbook: unpackPbxz(readFileSync(join(root, PLAYBOOK_FILE))),
}
const [generatedComponent, generatedPlaybook] = renderTemplates(config, layout).map((r) => r.text) as [string, string]

const component = (): PbxExport => JSON.parse(generatedComponent) as PbxExport
const playbook = (): PbxExport => JSON.parse(generatedPlaybook) as PbxExport
const contract = (): AppConfig => structuredClone(config)
const rules = (problems: readonly TemplateProblem[]): string[] => [...new Set(problems.map((p) => p.rule))].sort()
const jobById = (pbx: PbxExport, id: number): PbxJob => {
  const job = pbx.jobList.find((j) => j.id === id)
  if (job === undefined) throw new Error(`no job ${id}`)
  return job
}
const setParam = (job: PbxJob, name: string, value: string | undefined): void => {
  const p = job.jobParameterList.find((p) => p.appCatalogItemParameter.paramName === name)
  if (p === undefined)
    job.jobParameterList.push({
      appCatalogItemParameter: { paramName: name },
      ...(value === undefined ? {} : { value }),
    })
  else if (value === undefined) job.jobParameterList.splice(job.jobParameterList.indexOf(p), 1)
  else p.value = value
}
const componentStep = (pbx: PbxExport): PbxJob => jobById(pbx, PLAYBOOK_IDS.enrich)
const isMalicious = (pbx: PbxExport): PbxJob => jobById(pbx, PLAYBOOK_IDS.isMalicious)
const componentTrigger = (pbx: PbxExport) => {
  const trigger = pbx.playbookTriggerList[0]
  if (trigger === undefined) throw new Error('no trigger')
  return trigger
}
/** Edits a component's inputs or outputs, which the export keeps as JSON text. */
const editInputs = <T = PipeInputParam>(pbx: PbxExport, edit: (inputs: T[]) => T[] | void): void => {
  const trigger = componentTrigger(pbx)
  const inputs = JSON.parse(trigger.pipeInputParams ?? '[]') as T[]
  trigger.pipeInputParams = JSON.stringify(edit(inputs) ?? inputs)
}
const editOutputs = (pbx: PbxExport, edit: (outputs: PipeOutputParam[]) => PipeOutputParam[] | void): void => {
  const trigger = componentTrigger(pbx)
  const outputs = JSON.parse(trigger.pipeOutputParams ?? '[]') as PipeOutputParam[]
  trigger.pipeOutputParams = JSON.stringify(edit(outputs) ?? outputs)
}

t.test('the unmutated copies are clean', async (t) => {
  t.same(checkTemplateText(generatedComponent, config, 'c.pbx').map(formatTemplateProblem), [])
  t.same(checkTemplateText(generatedPlaybook, config, 'p.pbx').map(formatTemplateProblem), [])
})

t.test('a reference to enrich.results.nope!String fails the committed templates', async (t) => {
  for (const [name, text] of Object.entries(committed)) {
    t.ok(text.includes('enrich.results.verdict!String'), `${name} reads enrich.results.verdict!String`)
    const problems = checkTemplateText(
      text.replace('enrich.results.verdict!String', 'enrich.results.nope!String'),
      config,
      name,
    )
    const nope = problems.filter((p) => p.message.includes('enrich.results.nope!String'))
    t.ok(
      nope.some((p) => p.rule === 'not-a-contract-output'),
      `${name}: not a contract output`,
    )
    t.ok(
      nope.some((p) => p.rule === 'undeclared-variable'),
      `${name}: no step declares it`,
    )
  }
})

t.test('renaming an output everywhere (declarations too) is still caught: the contract decides', async (t) => {
  const renamed = committed.playbook.replaceAll('enrich.results.verdict', 'enrich.results.nope')
  const problems = checkTemplateText(renamed, config, 'p.pbx')
  t.ok(problems.some((p) => p.rule === 'not-a-contract-output' && p.message.includes('enrich.results.nope!String')))
  t.ok(problems.some((p) => p.rule === 'missing-output' && p.message.includes('enrich.results.verdict!String')))
  t.notOk(
    problems.some((p) => p.rule === 'undeclared-variable'),
    'every reference is declared: only the contract check catches it',
  )
})

interface Mutation {
  readonly name: string
  readonly base: () => PbxExport
  readonly mutate: (pbx: PbxExport) => void
  readonly expect: readonly string[]
  readonly config?: (c: AppConfig) => void
}

const mutations: Mutation[] = [
  // variable references
  {
    name: 'an output read with the wrong type',
    base: playbook,
    mutate: (p) => setParam(isMalicious(p), 'operand_1', `#App:${PLAYBOOK_IDS.enrich}:enrich.results.tags!String`),
    expect: ['not-a-contract-output', 'undeclared-variable'],
  },
  {
    name: 'a type that does not exist',
    base: playbook,
    mutate: (p) => setParam(isMalicious(p), 'operand_1', `#App:${PLAYBOOK_IDS.enrich}:enrich.results.verdict!Strin`),
    expect: ['not-a-contract-output', 'undeclared-variable', 'unknown-type'],
  },
  {
    name: 'a reference without its type',
    base: playbook,
    mutate: (p) => setParam(isMalicious(p), 'operand_1', `#App:${PLAYBOOK_IDS.enrich}:enrich.results.verdict`),
    expect: ['malformed-variable'],
  },
  {
    name: 'a reference to a step that is not there',
    base: playbook,
    mutate: (p) => setParam(isMalicious(p), 'operand_1', '#App:999:enrich.results.verdict!String'),
    expect: ['unknown-source'],
  },
  {
    name: 'a trigger variable the trigger does not give',
    base: playbook,
    mutate: (p) => setParam(componentStep(p), 'indicator', `#Trigger:${PLAYBOOK_IDS.trigger}:trg.action.nope!String`),
    expect: ['undeclared-variable'],
  },
  {
    name: 'a step reading a step that runs after it',
    base: component,
    mutate: (c) =>
      setParam(
        jobById(c, COMPONENT_IDS.post),
        'body',
        `{"indicator": "#App:${COMPONENT_IDS.map}:enrich.results.verdict!String"}`,
      ),
    expect: ['not-upstream'],
  },
  {
    name: 'a component output filled from a variable no step declares',
    base: component,
    mutate: (c) =>
      editOutputs(
        c,
        (outputs) =>
          void outputs.push({
            key: 'enrich.results.nope',
            value: `#App:${COMPONENT_IDS.map}:enrich.results.nope!String`,
            displayValue: '',
          }),
      ),
    expect: ['not-a-contract-output', 'undeclared-variable'],
  },
  {
    name: 'a component output with another type than the contract gives it',
    base: component,
    mutate: (c) =>
      editOutputs(c, (outputs) => {
        const tags = outputs.find((o) => o.key === 'enrich.results.tags')
        if (tags) tags.value = `#App:${COMPONENT_IDS.post}:http.content!String`
      }),
    expect: ['missing-output', 'not-a-contract-output'],
  },
  // the step that runs the component
  {
    name: 'a param the app does not have',
    base: playbook,
    mutate: (p) => setParam(componentStep(p), 'nope', 'x'),
    expect: ['unknown-param'],
  },
  {
    name: 'a Choice value the param does not offer',
    base: playbook,
    mutate: (p) => setParam(componentStep(p), 'indicator_type', 'Hash'),
    expect: ['param-value'],
  },
  {
    name: 'a Boolean that is not true or false',
    base: playbook,
    mutate: (p) => setParam(componentStep(p), 'write_note', 'yes'),
    expect: ['param-value'],
  },
  {
    name: 'a MultiChoice with an unknown value',
    base: playbook,
    mutate: (p) => setParam(componentStep(p), 'sources', 'asn|nope'),
    expect: ['param-value'],
  },
  {
    name: 'the required indicator left out',
    base: playbook,
    mutate: (p) => setParam(componentStep(p), 'indicator', undefined),
    expect: ['missing-required-param'],
  },
  {
    name: 'a component that is not embedded',
    base: playbook,
    mutate: (p) => {
      componentStep(p).appCatalogItem.programName = 'f'.repeat(32)
    },
    expect: ['unknown-component'],
  },
  {
    name: 'the step declares an output the contract has but the component does not',
    base: playbook,
    mutate: (p) =>
      editOutputs(p.exportablePipes?.[0] as PbxExport, (outputs) =>
        outputs.filter((o) => o.key !== 'enrich.results.note'),
      ),
    expect: ['missing-output', 'not-a-component-output'],
  },
  // the contract moved on; the component did not
  {
    name: 'a new param in app.config.json',
    base: component,
    mutate: () => undefined,
    config: (c) => c.params.push({ name: 'new_param', label: 'New', type: 'String' }),
    expect: ['missing-input'],
  },
  {
    name: 'a new output in app.config.json',
    base: component,
    mutate: () => undefined,
    config: (c) => c.playbook.outputVariables.push({ name: 'enrich.results.new', type: 'String' }),
    expect: ['missing-output'],
  },
  {
    name: 'a param whose type changed',
    base: component,
    mutate: () => undefined,
    config: (c) => {
      const p = c.params.find((p) => p.name === 'write_note')
      if (p) p.type = 'String'
    },
    expect: ['input-type'],
  },
  {
    name: 'an input declared twice, once unknown',
    base: component,
    mutate: (c) =>
      editInputs(
        c,
        (inputs) =>
          void inputs.push({ ...(inputs[0] as PipeInputParam) }, { ...(inputs[0] as PipeInputParam), name: 'nope' }),
      ),
    expect: ['duplicate-input', 'input-not-exposed', 'unknown-input'],
  },
  // shape
  {
    name: 'no jobList',
    base: component,
    mutate: (c) => delete (c as Partial<PbxExport>).jobList,
    expect: ['export-drift', 'top-level-shape'],
  },
  {
    name: 'an unknown top-level key',
    base: component,
    mutate: (c) => Object.assign(c, { steps: [] }),
    expect: ['export-drift'],
  },
  // drift from real exports
  {
    name: 'the legacy type Pipe',
    base: component,
    mutate: (c) => Object.assign(c, { type: 'Pipe' }),
    expect: ['export-drift'],
  },
  {
    name: 'no panX / panY',
    base: playbook,
    mutate: (p) => {
      delete (p as Partial<PbxExport>).panX
      delete (p as Partial<PbxExport>).panY
    },
    expect: ['export-drift', 'field-type'],
  },
  {
    name: 'an embedded component with exportablePipes of its own',
    base: playbook,
    mutate: (p) => Object.assign(p.exportablePipes?.[0] ?? {}, { exportablePipes: [] }),
    expect: ['export-drift'],
  },
  {
    name: 'a step without outputVariables',
    base: component,
    mutate: (c) => delete (jobById(c, COMPONENT_IDS.post) as Partial<PbxJob>).outputVariables,
    expect: ['export-drift'],
  },
  {
    name: 'the runtime form of an org variable (&{TC:...}) in an export',
    base: component,
    mutate: (c) => setParam(jobById(c, COMPONENT_IDS.post), 'url', '&{TC:TEXT:enrich_service_url}/run'),
    expect: ['malformed-variable'],
  },
  {
    name: 'a MultiChoice component input (no real component has one)',
    base: component,
    mutate: (c) =>
      editInputs(c, (inputs) => {
        const sources = inputs.find((i) => i.name === 'sources')
        if (sources) sources.dataType = 'MultiChoice'
      }),
    expect: ['export-drift'],
  },
  {
    name: 'an input in the legacy form (default and note instead of defaultValue, no orderSequence)',
    base: component,
    mutate: (c) =>
      editInputs<Record<string, unknown>>(c, (inputs) => {
        const first = inputs[0] ?? {}
        delete first['orderSequence']
        Object.assign(first, { note: 'legacy' })
      }),
    expect: ['export-drift'],
  },
  {
    name: 'a component output key declared twice (String and StringArray)',
    base: component,
    mutate: (c) =>
      editOutputs(
        c,
        (outputs) =>
          void outputs.push({
            key: 'enrich.results.verdict',
            value: `#App:${COMPONENT_IDS.map}:enrich.results.verdict!StringArray`,
            displayValue: '',
          }),
      ),
    expect: ['duplicate-output', 'not-a-contract-output', 'undeclared-variable'],
  },
  {
    name: 'a link with two sources',
    base: component,
    mutate: (c) => Object.assign(c.playbookConnectionList[1] ?? {}, { sourceTriggerId: COMPONENT_IDS.trigger }),
    expect: ['link-shape'],
  },
  {
    name: 'outputVariables that are not a JSON array',
    base: component,
    mutate: (c) => {
      jobById(c, COMPONENT_IDS.post).outputVariables = 'http.content!String'
    },
    expect: ['json-text'],
  },
  // graph
  {
    name: 'a link to a step that is not there',
    base: playbook,
    mutate: (p) =>
      p.playbookConnectionList.push({
        type: 'Pass',
        isCircularOnTarget: false,
        sourceJobId: PLAYBOOK_IDS.tag,
        targetJobId: 999,
      }),
    expect: ['unknown-link-end'],
  },
  {
    name: 'a step nothing leads to',
    base: playbook,
    mutate: (p) => {
      p.playbookConnectionList = p.playbookConnectionList.filter((l) => l.targetJobId !== PLAYBOOK_IDS.logFailure)
    },
    // It reads the trigger's item, which no longer runs before it.
    expect: ['not-upstream', 'unreachable-step'],
  },
  {
    name: 'a return link not flagged circular',
    base: playbook,
    mutate: (p) => {
      const back = p.playbookConnectionList.find((l) => l.targetTriggerId !== undefined)
      if (back) back.isCircularOnTarget = false
    },
    expect: ['circular-flag'],
  },
  {
    name: 'a step id used twice',
    base: playbook,
    mutate: (p) => {
      jobById(p, PLAYBOOK_IDS.logFailure).id = PLAYBOOK_IDS.logVerdict
    },
    // The link to the old id now ends nowhere.
    expect: ['duplicate-id', 'unknown-link-end'],
  },
  {
    name: 'a component that never hands back',
    base: component,
    mutate: (c) => {
      c.playbookConnectionList = c.playbookConnectionList.filter((l) => l.targetTriggerId === undefined)
    },
    expect: ['no-return'],
  },
  // triggers
  {
    name: 'a user action on a type the app does not enrich',
    base: playbook,
    mutate: (p) => {
      componentTrigger(p).userActionTypes = 'Address,Mutex'
    },
    expect: ['user-action-type'],
  },
  {
    name: 'a component with a second trigger',
    base: component,
    mutate: (c) => c.playbookTriggerList.push({ ...componentTrigger(c), id: 2, type: 'HttpLink' }),
    expect: ['component-trigger'],
  },
]

for (const m of mutations) {
  t.test(m.name, async (t) => {
    const pbx = m.base()
    m.mutate(pbx)
    const c = contract()
    m.config?.(c)
    const problems = checkTemplate(pbx, c, 'mutated.pbx')
    t.same(rules(problems), [...m.expect].sort(), problems.map(formatTemplateProblem).join('\n'))
  })
}

t.test('text that is not JSON', async (t) => {
  t.same(rules(checkTemplateText('{"name": ', config, 'x.pbx')), ['json-syntax'])
})
