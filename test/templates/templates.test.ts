/**
 * The committed templates against the contract as it is now (read at test time): they pass every check (real
 * exports' structure included), match what the contract generates, and — run offline against a real service
 * instance — the component's request is accepted and its JMESPath expressions hand back exactly the reply's outputs.
 */
import t, { type Test } from 'tap'
import jmespath from 'jmespath'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadContract } from '../../src/contract/load.js'
import { findProjectRoot } from '../../src/contract/project-root.js'
import { SOURCE_DEFINITIONS } from '../../src/sources/registry.js'
import { flattenOutputs, type NestedOutputs } from '../../src/contract/outputs.js'
import { checkTemplateText, tcVariablesIn } from '../../scripts/templates/check.js'
import { RUN_TOKEN_VARIABLE, SERVICE_URL_VARIABLE } from '../../scripts/templates/component.js'
import type {
  KeyValueRow,
  PbxExport,
  PbxJob,
  PipeInputParam,
  PipeOutputParam,
  VariableDeclaration,
} from '../../scripts/templates/pbx.js'
import { formatTemplateProblem } from '../../scripts/templates/problems.js'
import {
  COMPONENT_FILE,
  PLAYBOOK_FILE,
  TEMPLATES_DIR,
  TEMPLATES_README,
  renderTemplates,
  unpackPbxz,
} from '../../scripts/templates/render.js'
import { findVariableReferences, orgVariable } from '../../scripts/templates/variables.js'
import { startApp } from '../helpers/app.js'

const root = findProjectRoot()
const contract = loadContract({ root, sources: SOURCE_DEFINITIONS })
const config = contract.config
const read = (file: string): string => readFileSync(join(root, file), 'utf8')
/** A .pbxz's playbook.pbx. */
const readPbx = (file: string): string => unpackPbxz(readFileSync(join(root, file)))
const templateFiles = readdirSync(join(root, TEMPLATES_DIR))
  .filter((f) => f.endsWith('.pbx') || f.endsWith('.pbxz'))
  .map((f) => `${TEMPLATES_DIR}/${f}`)

const component = JSON.parse(readPbx(COMPONENT_FILE)) as PbxExport
const playbook = JSON.parse(readPbx(PLAYBOOK_FILE)) as PbxExport
const declared = (list: { name: string; type: string }[]): string[] => list.map((o) => `${o.name}!${o.type}`).sort()
const jobNamed = (pbx: PbxExport, name: string): PbxJob => {
  const job = pbx.jobList.find((j) => j.name === name)
  if (job === undefined) throw new Error(`no step '${name}' in ${pbx.name}`)
  return job
}
const paramOf = (job: PbxJob, name: string): string =>
  job.jobParameterList.find((p) => p.appCatalogItemParameter.paramName === name)?.value ?? ''

t.test('both templates are there, as .pbxz only (a zip holding playbook.pbx, as current exports)', async (t) => {
  t.same(templateFiles.sort(), [COMPONENT_FILE, PLAYBOOK_FILE].sort())
})

for (const file of templateFiles) {
  t.test(`${file} passes every check against app.config.json and real exports' structure`, async (t) => {
    t.same(checkTemplateText(readPbx(file), config, file).map(formatTemplateProblem), [])
  })
}

t.test('the committed templates are what the contract generates (npm run templates rewrites them)', async (t) => {
  for (const { file, text } of renderTemplates(config, contract.layout)) t.equal(readPbx(file), text, file)
})

t.test('the component declares the app: every param as an input, every output once with its type', async (t) => {
  t.equal(component.type, 'Component')
  const trigger = component.playbookTriggerList[0]
  t.equal(trigger?.type, 'PipeConfig')
  const inputs = JSON.parse(trigger?.pipeInputParams ?? '[]') as PipeInputParam[]
  const row = (name: string, type: string, required = false, encrypted = false, hidden = false): string =>
    [name, type, required, encrypted, hidden].join(' ')
  t.same(
    inputs.map((i) => row(i.name, i.dataType, i.required, i.encrypted, i.hidden)).sort(),
    config.params
      .map((p) => row(p.name, p.type === 'MultiChoice' ? 'String' : p.type, p.required, p.encrypt, p.hidden))
      .sort(),
  )
  t.ok(
    inputs.filter((i) => i.encrypted).every((i) => JSON.stringify(i.validValuesList) === '["${KEYCHAIN}"]'),
    'secrets offer only the keychain',
  )
  // The designer shows them as the native app's layout does: sections by sequence, hidden params last.
  const placed = [...contract.layout.inputs]
    .sort((a, b) => a.sequence - b.sequence)
    .flatMap((s) => s.parameters.map((p) => p.name))
  t.same(
    inputs.slice(0, placed.length).map((i) => i.name),
    placed,
    'inputs in layout order',
  )
  t.ok(
    inputs.slice(placed.length).every((i) => i.hidden),
    'only hidden params come after the layout',
  )
  const outputs = (JSON.parse(trigger?.pipeOutputParams ?? '[]') as PipeOutputParam[]).map((o) => {
    const ref = findVariableReferences(o.value)[0]
    return { name: o.key, type: ref?.kind === 'playbook' ? ref.type : '?' }
  })
  t.same(declared(outputs), declared(config.playbook.outputVariables))
  t.equal(new Set(outputs.map((o) => o.name)).size, outputs.length, 'no output key twice')
})

t.test('the sample playbook runs the embedded component from a UserAction on Address/Host/URL/File', async (t) => {
  t.equal(playbook.type, 'Playbook')
  const trigger = playbook.playbookTriggerList[0]
  t.equal(trigger?.type, 'UserAction')
  t.same(trigger?.userActionTypes?.split(','), ['Address', 'Host', 'URL', 'File'])
  const [embedded] = playbook.exportablePipes ?? []
  const { definitionVersion, ...rest } = embedded ?? ({} as PbxExport)
  const { exportablePipes: _none, ...standalone } = component
  t.same(rest, standalone, 'the embedded component is the committed one')
  const step = playbook.jobList.find((j) => j.appCatalogItem.pipeRunLevel === true)
  t.equal(step?.appCatalogItem.programName, definitionVersion)
  t.same(
    new Set(playbook.playbookConnectionList.map((l) => l.type)),
    new Set(['Pass', 'Fail']),
    'acts on both outcomes',
  )
})

t.test('every org variable the templates read is explained in the README', async (t) => {
  const readme = read(TEMPLATES_README)
  const used = [...new Set(templateFiles.flatMap((f) => tcVariablesIn(JSON.parse(readPbx(f)))))]
  t.ok(
    used.includes(`TEXT:${SERVICE_URL_VARIABLE}`) && used.includes(`KEYCHAIN:${RUN_TOKEN_VARIABLE}`),
    'service URL and token come from org variables',
  )
  for (const v of used) t.match(readme, `\`${v.split(':')[1]}\``, `${v} is in the README`)
})

// --- the component, run offline: body from the sample playbook's inputs, reply mapped through its Json Path steps

/** Replaces each variable reference in `text` by its value (unknown ones by ''). */
const substitute = (text: string, values: ReadonlyMap<string, string>): string =>
  findVariableReferences(text).reduce((out, ref) => out.split(ref.text).join(values.get(ref.text) ?? ''), text)

/** A JMESPath step: String rows give the match (as text), StringArray rows the list; nothing found: null. */
const runJmesPath = (job: PbxJob, content: string): Map<string, string | (string | null)[] | null> => {
  const document = JSON.parse(content) as object
  const values = new Map<string, string | (string | null)[] | null>()
  for (const row of JSON.parse(paramOf(job, 'string_expressions') || '[]') as KeyValueRow[]) {
    const found: unknown = jmespath.search(document, row.value)
    values.set(
      `${row.key}!String`,
      found === undefined || found === null ? null : typeof found === 'string' ? found : JSON.stringify(found),
    )
  }
  for (const row of JSON.parse(paramOf(job, 'string_array_expressions') || '[]') as KeyValueRow[]) {
    const found: unknown = jmespath.search(document, row.value)
    values.set(
      `${row.key}!StringArray`,
      Array.isArray(found) && found.length > 0 ? found.map((v) => (v === null ? null : String(v))) : null,
    )
  }
  return values
}

interface RunReply {
  exitCode: number
  exitMessage: string
  outputs: NestedOutputs
}

/** Org variables as the platform fills them in. */
const fillOrgVariables = (text: string, values: ReadonlyMap<string, string>): string =>
  text.replace(/\$\{ORGANIZATION:[A-Z]+:[^}]+\}/g, (v) => values.get(v) ?? '')

/**
 * The HTTP Client's request, as it builds one: headers and query params are whole values (a variable the playbook
 * leaves unset is None, which its requests session leaves out; exclude_null_parameters is on); the body is sent as
 * written. `inputs` maps each trigger variable to its value, or to undefined when the step leaves it unset.
 */
const httpClientRequest = (
  post: PbxJob,
  inputs: ReadonlyMap<string, string | undefined>,
  orgVariables: ReadonlyMap<string, string>,
) => {
  const whole = (value: string): string | undefined => {
    const filled = fillOrgVariables(value, orgVariables)
    const refs = findVariableReferences(filled)
    if (refs.length === 1 && refs[0]?.text === filled) return inputs.get(filled)
    return substitute(filled, new Map([...inputs].map(([k, v]) => [k, v ?? '<null>'])))
  }
  const rows = (name: string): Array<[string, string]> =>
    (JSON.parse(paramOf(post, name) || '[]') as KeyValueRow[]).flatMap((r) => {
      const value = whole(r.value)
      return value === undefined ? [] : [[r.key, value] as [string, string]]
    })
  const url = new URL(fillOrgVariables(paramOf(post, 'url'), orgVariables))
  for (const [key, value] of rows('params')) url.searchParams.append(key, value)
  return {
    method: paramOf(post, 'http_method') as 'POST',
    url: `${url.pathname}${url.search}`,
    headers: Object.fromEntries(rows('headers').map(([k, v]) => [k.toLowerCase(), v])),
    payload: paramOf(post, 'body'),
  }
}

const simulate = async (
  t: Test,
  indicator: string,
  env: Record<string, string> = {},
  token = '',
  overrides: Record<string, string | undefined> = {},
) => {
  const started = await startApp(t, env)
  const { app } = started
  const [embedded] = playbook.exportablePipes ?? []
  const step = playbook.jobList.find((j) => j.appCatalogItem.pipeRunLevel === true)
  if (embedded === undefined || step === undefined) throw new Error('the sample playbook does not run the component')
  const trigger = embedded.playbookTriggerList[0]
  // What the playbook step hands the component: the params it sets (the UserAction's item filled in); the others
  // it leaves unset.
  const clicked = new Map([[`#Trigger:${playbook.playbookTriggerList[0]?.id}:trg.action.item!String`, indicator]])
  const set = new Set(
    step.jobParameterList.filter((p) => p.value !== undefined).map((p) => p.appCatalogItemParameter.paramName),
  )
  const inputs = new Map(
    (JSON.parse(trigger?.outputVariables ?? '[]') as VariableDeclaration[]).map((d) => [
      `#Trigger:${trigger?.id}:${d.name}!${d.type}`,
      d.name in overrides
        ? overrides[d.name]
        : set.has(d.name)
          ? substitute(paramOf(step, d.name), clicked)
          : undefined,
    ]),
  )
  const post = jobNamed(embedded, 'POST /run')
  const orgVariables = new Map([
    [orgVariable('TEXT', SERVICE_URL_VARIABLE), 'http://127.0.0.1:8080'],
    // The keychain variable holds the whole header value, as the README tells the admin to store it.
    [orgVariable('KEYCHAIN', RUN_TOKEN_VARIABLE), `Bearer ${token}`],
  ])
  const request = httpClientRequest(post, inputs, orgVariables)
  const res = await app.inject(request)
  return { res, embedded, trigger, request, logs: started.logs }
}

t.test('offline run: the component request is accepted and its mappings return the reply outputs', async (t) => {
  const { res, embedded, trigger } = await simulate(t, 'evil[.]example')
  t.equal(res.statusCode, 200, res.statusCode === 200 ? 'accepted' : res.body)
  const reply = res.json<RunReply>()
  t.equal(reply.exitCode, 0)
  const outputs = flattenOutputs(reply.outputs)
  t.equal(outputs['enrich.results.verdict'], 'malicious', 'the sample watchlist lists evil.example')

  const mapped = runJmesPath(jobNamed(embedded, 'Map the outputs'), res.body)
  const componentOutputs = new Map<string, unknown>()
  for (const o of JSON.parse(trigger?.pipeOutputParams ?? '[]') as PipeOutputParam[]) {
    const ref = findVariableReferences(o.value)[0]
    if (ref?.kind === 'playbook')
      componentOutputs.set(`${o.key}!${ref.type}`, mapped.get(`${ref.name}!${ref.type}`) ?? null)
  }
  const expected = new Map<string, unknown>()
  for (const o of config.playbook.outputVariables) {
    const value = outputs[o.name]
    const sameType = o.type === 'String' ? typeof value === 'string' : Array.isArray(value)
    expected.set(`${o.name}!${o.type}`, sameType && !(Array.isArray(value) && value.length === 0) ? value : null)
  }
  t.same(Object.fromEntries(componentOutputs), Object.fromEntries(expected))
  t.equal(componentOutputs.get('enrich.results.verdict!String'), 'malicious')
  t.same(componentOutputs.get('enrich.results.tags!StringArray'), outputs['enrich.results.tags'])
})

t.test(
  'offline run: a failed run answers a non-2xx, which fails the HTTP Client step (fail_on_error true)',
  async (t) => {
    const down = { VIRUSTOTAL_API_KEY: 'vt-key-123', VIRUSTOTAL_BASE_URL: 'http://127.0.0.1:9/api/v3' }
    const { res } = await simulate(t, '198.51.100.23', down, '', { sources: 'virustotal' })
    const post = jobNamed(component, 'POST /run')
    t.equal(paramOf(post, 'fail_on_error'), 'true')
    t.equal(res.statusCode, 502, 'no source could answer: the step fails')
    t.match(res.json<RunReply>().exitMessage, /^no source answered/)
    const relaxed = await simulate(t, '198.51.100.23', down, '', { sources: 'virustotal', fail_on_error: 'false' })
    t.equal(
      relaxed.res.statusCode,
      200,
      'fail_on_error false on the component: the step passes, the failure is in the outputs',
    )
    const steps = component.jobList.map((j) => j.appCatalogItem.programName)
    t.same(steps, ['TCPB - HTTP Client v3.0', 'TCPB - JMESPath v3.0'], 'no side-effect step to fail the component')
  },
)

t.test('offline run: the Authorization header the component sends is the one RUN_TOKEN asks for', async (t) => {
  const token = 'playbook-token-123'
  const good = await simulate(t, '8.8.8.8', { RUN_TOKEN: token }, token)
  t.equal(good.res.statusCode, 200, good.res.statusCode === 200 ? 'the right token is accepted' : good.res.body)
  const wrong = await simulate(t, '8.8.8.8', { RUN_TOKEN: token }, 'another-token')
  t.equal(wrong.res.statusCode, 401, 'a wrong keychain value is refused (and fails the HTTP Client step)')
})

t.test(
  'offline run: every optional input unset, as the sample leaves them, is left out and the call is accepted',
  async (t) => {
    const { res, request } = await simulate(t, '8.8.8.8')
    t.equal(res.statusCode, 200, res.statusCode === 200 ? 'accepted' : res.body)
    const query = new URL(`http://x${request.url}`).searchParams
    t.same(
      [...query.keys()].sort(),
      playbook.jobList
        .find((j) => j.appCatalogItem.pipeRunLevel === true)
        ?.jobParameterList.filter((p) => p.value !== undefined)
        .map((p) => p.appCatalogItemParameter.paramName)
        .filter((name) => config.params.find((p) => p.name === name)?.encrypt !== true)
        .sort(),
      'only what the step sets is sent',
    )
    t.notOk(query.has('tc_profile'), 'no "<null>" profile')
    t.equal(request.payload, '{}', 'the body carries no input, and so no secret')
  },
)

t.test(
  'offline run: a vendor key from the keychain travels whole in its header; never logged, never echoed',
  async (t) => {
    const { GOOD_KEY, startFakeVirustotal, vtBody } = await import('../sources/virustotal/fake-virustotal.js')
    const vt = await startFakeVirustotal(t)
    vt.object('/ip_addresses/198.51.100.23', vtBody('ip-malicious'))
    const { res, request, logs } = await simulate(t, '198.51.100.23', { VIRUSTOTAL_BASE_URL: vt.baseUrl }, '', {
      sources: 'virustotal',
      virustotal_api_key: GOOD_KEY,
    })
    t.equal(res.statusCode, 200, res.body)
    t.equal(request.headers['x-virustotal-key'], GOOD_KEY)
    t.notMatch(request.url, GOOD_KEY, 'not in the URL')
    t.same(
      vt.vendor.requests.map((r) => r.headers['x-apikey']),
      [GOOD_KEY],
    )
    t.notMatch(res.body, GOOD_KEY)
    t.notMatch(JSON.stringify(logs), GOOD_KEY)
  },
)

t.test(
  'offline run: a URL with a quote and a backslash reaches the service whole (query params are encoded)',
  async (t) => {
    const { res } = await simulate(t, 'http://example.com/a?q="x\\y"')
    t.equal(res.statusCode, 200, res.body)
    t.equal(flattenOutputs(res.json<RunReply>().outputs)['enrich.results.indicator'], 'http://example.com/a?q="x\\y"')
  },
)

t.test('every branch of the sample answers the analyst: success and failure merge back to the trigger', async (t) => {
  const ids = new Map(playbook.jobList.map((j) => [j.id, j]))
  const trigger = playbook.playbookTriggerList[0]
  const next = (id: number, type?: string) =>
    playbook.playbookConnectionList.filter((l) => l.sourceJobId === id && (type === undefined || l.type === type))
  /** Every path from a step ends at the trigger. */
  const reachesTrigger = (id: number, seen = new Set<number>()): boolean => {
    if (seen.has(id)) return false
    seen.add(id)
    const out = next(id)
    return (
      out.length > 0 &&
      out.every(
        (l) =>
          l.targetTriggerId === trigger?.id ||
          (l.targetJobId !== undefined && reachesTrigger(l.targetJobId, new Set(seen))),
      )
    )
  }
  const enrich = playbook.jobList.find((j) => j.appCatalogItem.pipeRunLevel === true)
  const [failure] = next(enrich?.id ?? 0, 'Fail')
  t.ok(
    failure?.targetJobId !== undefined && reachesTrigger(failure.targetJobId),
    'the failure branch ends at the trigger',
  )
  const [success] = next(enrich?.id ?? 0, 'Pass')
  t.ok(success?.targetJobId !== undefined && reachesTrigger(success.targetJobId), 'so does every success branch')
  const back = playbook.playbookConnectionList.filter((l) => l.targetTriggerId === trigger?.id)
  t.equal(back.length, 1, 'one way back: through the Merge')
  const merge = ids.get(back[0]?.sourceJobId ?? 0)
  t.equal(merge?.appCatalogItem.programName, 'Merge')
  t.equal(back[0]?.isCircularOnTarget, true)
  t.equal(trigger?.httpResponseBody, `#App:${merge?.id}:m.reply!String`, 'the analyst sees what the Merge answers')
  const rows = JSON.parse(paramOf(merge as PbxJob, 'output_array')) as KeyValueRow[]
  t.same(
    rows.map((r) => r.key),
    ['m.reply', 'm.reply'],
    'the success reply and the failure reply',
  )
})
