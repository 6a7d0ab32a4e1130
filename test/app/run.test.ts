import t from 'tap'
import type { InjectOptions } from 'fastify'
import { readFileSync } from 'node:fs'
import type { AppConfig } from '../../src/contract/types.js'
import { Value } from 'typebox/value'
import { indexOutputs } from '../../src/contract/outputs.js'
import { deriveRunReplySchema } from '../../src/schemas/run.js'
import { startApp } from '../helpers/app.js'
import { runReply } from '../helpers/run-reply.js'

const config = JSON.parse(readFileSync(new URL('../../app.config.json', import.meta.url), 'utf8')) as AppConfig
const declared = new Set(config.playbook.outputVariables.map((o) => `${o.name}!${o.type}`))
const typeOf = (v: unknown): string => (typeof v === 'string' ? 'String' : 'StringArray')
const replySchema = deriveRunReplySchema(indexOutputs(config))

t.test('one indicator: documented outputs, all declared with the right type', async (t) => {
  const { app } = await startApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: ' 8.8.8.8 ', indicator_type: 'Auto' },
  })
  t.equal(res.statusCode, 200)
  const reply = runReply(res)
  t.equal(reply.exitCode, 0)
  t.match(reply.exitMessage, /^8\.8\.8\.8 \(Address\): benign/)
  const o = reply.outputs
  t.equal(o['enrich.results.indicator'], '8.8.8.8')
  t.equal(o['enrich.results.indicator_type'], 'Address')
  t.equal(o['enrich.results.verdict'], 'benign', 'the sample watchlist lists 8.8.8.8 as benign')
  t.equal(o['enrich.results.asn.number'], '15169')
  t.match(o['enrich.results.asn.org'], /Google/)
  t.equal(o['enrich.results.watchlist.match'], 'true')
  t.equal(o['enrich.results.classify.is_public'], 'true')
  t.same(o['enrich.results.sources.ok'], ['asn', 'watchlist', 'classify'])
  t.match(o['enrich.results.note'], /\*\*Verdict: benign\*\*/)
  const results = JSON.parse(String(o['enrich.results.json'])) as {
    indicator: { input: string }
    sources: { source: string }[]
  }
  t.equal(results.indicator.input, ' 8.8.8.8 ', 'what the caller sent is kept')
  t.same(
    results.sources.map((s) => s.source),
    ['asn', 'watchlist', 'classify'],
  )
  for (const [name, value] of Object.entries(o))
    t.ok(declared.has(`${name}!${typeOf(value)}`), `${name} declared as ${typeOf(value)}`)
  const nested = res.json<{ outputs: { enrich: { results: { verdict: string; asn: { number: string } } } } }>().outputs
  t.equal(nested.enrich.results.verdict, 'benign', 'the reply nests outputs by their names: a plain path maps each one')
  t.equal(nested.enrich.results.asn.number, '15169')
  t.ok(Value.Check(replySchema, res.json()), 'the reply matches the schema the contract declares')
})

t.test('defanged input is refanged and matched against the watchlist', async (t) => {
  const { app } = await startApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: 'evil[.]example', sources: 'watchlist|classify' },
  })
  const o = runReply(res).outputs
  t.equal(o['enrich.results.indicator'], 'evil.example')
  t.equal(o['enrich.results.indicator_type'], 'Host')
  t.equal(o['enrich.results.verdict'], 'malicious')
  t.equal(o['enrich.results.classify.registrable_domain'], 'evil.example')
  t.notOk('enrich.results.asn.number' in o, 'asn was not selected: no asn outputs')
})

t.test('an unsupported type is listed in sources.skipped with the reason', async (t) => {
  const { app } = await startApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: 'example.org', sources: ['asn', 'classify'] },
  })
  const reply = runReply(res)
  t.same(reply.outputs['enrich.results.sources.skipped'], [
    'asn: does not support Host indicators (supports Address, CIDR)',
  ])
  t.equal(reply.outputs['enrich.results.verdict'], 'unknown', 'no opinion is unknown, never benign')
  t.equal(reply.exitCode, 0)
})

t.test('an array of indicators: outputs aligned with the input order', async (t) => {
  const { app } = await startApp(t)
  const indicators = ['1.1.1.1', 'hxxp://bad[.]example/login', '203.0.113.9', 'example.org']
  const res = await app.inject({ method: 'POST', url: '/run', payload: { indicator: indicators } })
  t.equal(res.statusCode, 200)
  const o = runReply(res).outputs
  t.same(o['enrich.results.indicator'], ['1.1.1.1', 'http://bad.example/login', '203.0.113.9', 'example.org'])
  t.same(o['enrich.results.indicator_type'], ['Address', 'URL', 'Address', 'Host'])
  t.same(o['enrich.results.verdict'], ['benign', 'malicious', 'malicious', 'unknown'])
  t.equal((o['enrich.results.asn.number'] as unknown[]).length, 4)
  t.equal((o['enrich.results.asn.number'] as unknown[])[1], null, 'asn has nothing for a URL: null keeps alignment')
  const names = new Set(config.playbook.outputVariables.map((v) => v.name))
  for (const [name, value] of Object.entries(o)) {
    t.ok(names.has(name), `${name} is declared`)
    t.equal((value as unknown[]).length, 4, `${name}: one value per indicator`)
  }
  t.ok(Value.Check(replySchema, res.json()), 'the batch reply matches the declared schema')
})

t.test('bad input: clear 4xx JSON errors naming the field', async (t) => {
  const { app } = await startApp(t, { BODY_LIMIT: '2048' })
  const cases: { name: string; req: InjectOptions; status: number; code: string; field: string; message?: RegExp }[] = [
    {
      name: 'not of the given type',
      req: { method: 'POST', url: '/run', payload: { indicator: '1.2.3', indicator_type: 'Address' } },
      status: 400,
      code: 'INVALID_INDICATOR',
      field: 'indicator',
      message: /^'1\.2\.3' is not a valid Address/,
    },
    {
      name: 'bad array item',
      req: { method: 'POST', url: '/run', payload: { indicator: ['8.8.8.8', 'not an indicator'] } },
      status: 400,
      code: 'INVALID_INDICATOR',
      field: 'indicator[1]',
    },
    {
      name: 'missing indicator',
      req: { method: 'POST', url: '/run', payload: { sources: 'asn' } },
      status: 400,
      code: 'MISSING_PARAM',
      field: 'indicator',
    },
    {
      name: 'unknown source in a joined string',
      req: { method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', sources: 'asn|nope' } },
      status: 400,
      code: 'UNKNOWN_SOURCE',
      field: 'sources',
      message: /'nope'/,
    },
    {
      name: 'unknown source in an array',
      req: { method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', sources: ['asn', 'vt'] } },
      status: 400,
      code: 'UNKNOWN_SOURCE',
      field: 'sources',
    },
    {
      name: 'bad choice',
      req: { method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', indicator_type: 'IP' } },
      status: 400,
      code: 'INVALID_PARAM',
      field: 'indicator_type',
      message: /must be one of Auto, Address/,
    },
    {
      name: 'bad boolean',
      req: { method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', force_refresh: 'yes' } },
      status: 400,
      code: 'INVALID_PARAM',
      field: 'force_refresh',
    },
    {
      name: 'unknown param',
      req: { method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', indicatr_type: 'Host' } },
      status: 400,
      code: 'UNKNOWN_PARAM',
      field: 'indicatr_type',
    },
    {
      name: 'empty indicator (not set)',
      req: { method: 'POST', url: '/run', payload: { indicator: '' } },
      status: 400,
      code: 'MISSING_PARAM',
      field: 'indicator',
    },
    {
      name: 'not an object',
      req: { method: 'POST', url: '/run', payload: '[1,2]', headers: { 'content-type': 'application/json' } },
      status: 400,
      code: 'INVALID_PARAM',
      field: '',
    },
    {
      name: 'malformed JSON',
      req: { method: 'POST', url: '/run', payload: '{"indicator": ', headers: { 'content-type': 'application/json' } },
      status: 400,
      code: 'INVALID_JSON',
      field: '',
    },
    {
      name: 'wrong content type',
      req: { method: 'POST', url: '/run', payload: 'indicator=8.8.8.8', headers: { 'content-type': 'text/plain' } },
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      field: '',
    },
    {
      name: 'oversized body',
      req: { method: 'POST', url: '/run', payload: { indicator: 'a'.repeat(4000) } },
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      field: '',
    },
    { name: 'unknown route', req: { method: 'GET', url: '/nope' }, status: 404, code: 'NOT_FOUND', field: '' },
  ]
  for (const c of cases) {
    const res = await app.inject(c.req)
    t.equal(res.statusCode, c.status, `${c.name}: status`)
    const body = res.json<{ error: { code: string; field: string; message: string } }>()
    t.equal(body.error.code, c.code, `${c.name}: code`)
    t.equal(body.error.field, c.field, `${c.name}: field`)
    t.ok(body.error.message.length > 0, `${c.name}: message`)
    if (c.message) t.match(body.error.message, c.message, `${c.name}: message text`)
  }
})

t.test('MultiChoice as a joined string and Booleans as platform strings are accepted', async (t) => {
  const { app } = await startApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: '8.8.8.8', sources: 'classify', write_note: 'false', force_refresh: 'true' },
  })
  t.equal(res.statusCode, 200)
  t.same(runReply(res).outputs['enrich.results.sources.ok'], ['classify'])
})

t.test('RUN_TOKEN: /run needs the bearer token, health stays open', async (t) => {
  const { app, logs } = await startApp(t, { RUN_TOKEN: 'correct-horse-battery' })
  const payload = { indicator: '8.8.8.8' }
  const none = await app.inject({ method: 'POST', url: '/run', payload })
  t.equal(none.statusCode, 401)
  t.equal(none.json<{ error: { code: string } }>().error.code, 'UNAUTHORIZED')
  const wrong = await app.inject({
    method: 'POST',
    url: '/run',
    payload,
    headers: { authorization: 'Bearer correct-horse-battery-x' },
  })
  t.equal(wrong.statusCode, 401)
  const good = await app.inject({
    method: 'POST',
    url: '/run',
    payload,
    headers: { authorization: 'Bearer correct-horse-battery' },
  })
  t.equal(good.statusCode, 200)
  t.equal((await app.inject({ url: '/health' })).statusCode, 200)
  t.notOk(JSON.stringify(logs).includes('correct-horse-battery'), 'the token never reaches the logs')
})

t.test('wrong tokens are limited per client address: 140 different guesses are throttled, not 140 tries', async (t) => {
  const { app } = await startApp(t, {
    RUN_TOKEN: 'correct-horse-battery',
    AUTH_FAILURE_LIMIT: '10/1m',
    RUN_RATE_LIMIT: 'off',
  })
  const payload = { indicator: '8.8.8.8' }
  const statuses: number[] = []
  for (let i = 0; i < 140; i++) {
    const guess = await app.inject({
      method: 'POST',
      url: '/run',
      payload,
      headers: { authorization: `Bearer guess-number-${i}` },
    })
    statuses.push(guess.statusCode)
  }
  t.equal(statuses.filter((s) => s === 401).length, 10, 'ten wrong tokens are told they are wrong')
  t.equal(statuses.filter((s) => s === 429).length, 130, 'the rest are refused without being checked')
  const right = await app.inject({
    method: 'POST',
    url: '/run',
    payload,
    headers: { authorization: 'Bearer correct-horse-battery' },
  })
  t.equal(right.statusCode, 429, 'while blocked, even the right token cannot be told from a wrong one')
  t.match(right.headers['retry-after'], /^\d+$/)
  t.match(
    right.json<{ error: { message: string } }>().error.message,
    /too many failed authentications from this address \(10\/1m, AUTH_FAILURE_LIMIT\)/,
  )
  const other = await app.inject({
    method: 'POST',
    url: '/run',
    payload,
    remoteAddress: '192.0.2.44',
    headers: { authorization: 'Bearer correct-horse-battery' },
  })
  t.equal(other.statusCode, 200, 'another address is not blocked')
})

t.test('health, contract and OpenAPI docs', async (t) => {
  const { app } = await startApp(t)
  const health = (await app.inject({ url: '/health' })).json<{
    status: string
    sources: { id: string; state: string }[]
  }>()
  t.equal(health.status, 'ready')
  const state = new Map(health.sources.map((s) => [s.id, s.state]))
  t.same(
    [...state.keys()],
    [
      'asn',
      'watchlist',
      'classify',
      'virustotal',
      'abuseipdb',
      'greynoise',
      'internetdb',
      'urlhaus',
      'threatfox',
      'otx',
    ],
  )
  for (const id of ['asn', 'watchlist', 'classify', 'internetdb']) t.equal(state.get(id), 'ready', `${id} needs no key`)
  for (const id of ['virustotal', 'abuseipdb', 'urlhaus', 'threatfox', 'otx'])
    t.equal(state.get(id), 'not_configured', `${id} has no key here`)
  const contract = (await app.inject({ url: '/contract' })).json<{ config: AppConfig; layout: { inputs: unknown[] } }>()
  t.equal(contract.config.displayName, config.displayName)
  t.ok(contract.layout.inputs.length > 0)
  const spec = (await app.inject({ url: '/docs/json' })).json<{
    paths: Record<
      string,
      {
        post?: {
          requestBody: {
            content: Record<string, { schema: { properties: Record<string, unknown>; required: string[] } }>
          }
        }
      }
    >
  }>()
  const body = spec.paths['/run']?.post?.requestBody.content['application/json']?.schema
  const expected = [...config.params.map((p) => p.name), 'outputs'].sort()
  t.same(
    Object.keys(body?.properties ?? {}).sort(),
    expected,
    'the OpenAPI body lists exactly the params, and the outputs selection',
  )
  t.same(body?.required, ['indicator'])
  t.equal((await app.inject({ url: '/docs' })).statusCode < 400, true, 'the docs page is served')
})

t.test('the note is rendered into enrich.results.note with the app version', async (t) => {
  const { app } = await startApp(t, {}, { now: () => new Date('2026-01-02T03:04:05Z') })
  const o = runReply(await app.inject({ method: 'POST', url: '/run', payload: { indicator: '203.0.113.9' } })).outputs
  t.equal(o['enrich.results.verdict'], 'malicious')
  t.match(o['enrich.results.note'], /### Enrichment of `203\.0\.113\.9` \(Address\)/)
  t.match(o['enrich.results.note'], /Indicator Enrichment 2\.0\.0 · 2026-01-02T03:04:05\.000Z/)
})

t.test('optional inputs a playbook leaves empty ("") take their defaults', async (t) => {
  const { app } = await startApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: {
      indicator: '8.8.8.8',
      indicator_type: '',
      sources: '',
      write_note: '',
      force_refresh: '',
      owner: '',
      virustotal_api_key: '',
    },
  })
  t.equal(res.statusCode, 200, res.body)
  const o = runReply(res).outputs
  t.equal(o['enrich.results.indicator_type'], 'Address')
  t.same(o['enrich.results.sources.ok'], ['asn', 'watchlist', 'classify'], 'the default sources')
  t.equal(
    o['enrich.results.writeback.status'],
    'skipped',
    'write_note defaults to false: nothing is written unless asked',
  )
  t.match(o['enrich.results.writeback.reason'], /write_note is false/)
  const required = await app.inject({ method: 'POST', url: '/run', payload: { indicator: '' } })
  t.equal(required.statusCode, 400, 'the required indicator may not be empty')
})

t.test('a mistyped secret param is rejected without echoing its value', async (t) => {
  const { app, logs } = await startApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: '8.8.8.8', virustotal_api_key: 987654321123 },
  })
  t.equal(res.statusCode, 400)
  t.equal(res.json<{ error: { field: string } }>().error.field, 'virustotal_api_key')
  t.notOk(res.body.includes('987654321123'), 'not in the reply')
  t.notOk(JSON.stringify(logs).includes('987654321123'), 'not in the logs')
})

t.test('TCEntity inputs: the entity type sets the indicator type', async (t) => {
  const { app } = await startApp(t)
  const one = runReply(
    await app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: { id: 12, type: 'Host', value: 'Evil[.]Example' } },
    }),
  )
  t.equal(one.outputs['enrich.results.indicator'], 'evil.example')
  t.equal(one.outputs['enrich.results.indicator_type'], 'Host')
  const many = runReply(
    await app.inject({
      method: 'POST',
      url: '/run',
      payload: {
        indicator: [
          { id: 1, type: 'Address', value: '8.8.8.8' },
          '1.1.1.1',
          { type: 'File', value: '44D88612FEA8A8F36DE82E1278ABB02F' },
        ],
      },
    }),
  )
  t.same(many.outputs['enrich.results.indicator_type'], ['Address', 'Address', 'File'])
  t.same(many.outputs['enrich.results.verdict'], ['benign', 'benign', 'malicious'])
  const mismatch = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: { type: 'Address', value: 'evil.example' } },
  })
  t.equal(mismatch.statusCode, 400)
  t.match(mismatch.json<{ error: { message: string } }>().error.message, /is not a valid Address/)
  const badType = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: [{ type: 'Mutex', value: 'x' }] },
  })
  t.equal(badType.statusCode, 400)
  t.equal(badType.json<{ error: { field: string } }>().error.field, 'indicator[0]')
})

t.test('the playbook runtime fields are not part of the HTTP interface', async (t) => {
  const { app } = await startApp(t)
  for (const field of [
    'tc_playbook_out_variables',
    'tc_kvstore_host',
    'tc_kvstore_port',
    'tc_playbook_kvstore_context',
    'tc_api_path',
    'tc_token',
    'tc_api_access_id',
    'tc_api_secret_key',
  ]) {
    const res = await app.inject({ method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', [field]: 'x' } })
    t.equal(res.statusCode, 400, field)
    t.match(res.json(), { error: { code: 'UNKNOWN_PARAM', field } }, `${field} is refused, naming it`)
  }
})

t.test('fail_on_no_results: a run where no source knew the indicator fails with 404, only when asked', async (t) => {
  const { app } = await startApp(t)
  const passing = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: 'example.org', sources: 'classify' },
  })
  t.equal(passing.statusCode, 200)
  t.equal(runReply(passing).exitCode, 0)
  const failing = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: 'example.org', sources: 'classify', fail_on_no_results: 'true' },
  })
  t.equal(failing.statusCode, 404, 'a non-2xx: the HTTP Client step fails through its own failure handling')
  const reply = runReply(failing)
  t.equal(reply.exitCode, 1)
  t.match(reply.exitMessage, /^no results \(fail_on_no_results\); example\.org \(Host\): unknown/)
  t.equal(reply.outputs['enrich.results.verdict'], 'unknown', 'the outputs come back all the same')
  const known = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: 'evil[.]example', fail_on_no_results: true },
  })
  t.equal(known.statusCode, 200, 'a verdict is a result')
})

t.test('tc_profile: a request may pick only a configured profile, by name', async (t) => {
  const { app } = await startApp(t)
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: '8.8.8.8', write_note: true, tc_profile: 'http://127.0.0.1:9/' },
  })
  t.equal(res.statusCode, 400)
  t.match(res.json(), {
    error: {
      code: 'UNKNOWN_PROFILE',
      field: 'tc_profile',
      message: /no ThreatConnect profile is named 'http:\/\/127\.0\.0\.1:9\/'; configured: none/,
    },
  })
  const empty = await app.inject({ method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', tc_profile: '' } })
  t.equal(empty.statusCode, 200, 'empty means the default profile')
})

t.test('/health warns when /run is open off loopback (RUN_AUTH=off)', async (t) => {
  const open = await startApp(t, { HOST: '0.0.0.0', RUN_AUTH: 'off' })
  const health = (await open.app.inject({ url: '/health' })).json<{ warnings: string[] }>()
  t.match(health.warnings, [/RUN_AUTH=off/])
  const closed = await startApp(t)
  t.same((await closed.app.inject({ url: '/health' })).json<{ warnings: string[] }>().warnings, [])
})

t.test('another method on /run is a 405 that says to POST, with Allow', async (t) => {
  const { app } = await startApp(t)
  for (const method of ['GET', 'PUT', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/run' })
    t.equal(res.statusCode, 405, method)
    t.equal(res.headers['allow'], 'POST')
    t.match(res.json(), {
      error: { code: 'METHOD_NOT_ALLOWED', message: new RegExp(`^${method} /run is not supported; send POST /run`) },
    })
  }
})

t.test('"<null>" (tcex\'s unset variable) and "" mean "not set" for every param', async (t) => {
  const { app } = await startApp(t)
  const unset = await app.inject({
    method: 'POST',
    url: '/run',
    payload: {
      indicator: '8.8.8.8',
      tc_profile: '<null>',
      owner: '<null>',
      sources: '<null>',
      write_note: '<null>',
      indicator_type: '',
      fail_on_error: ' <null> ',
    },
  })
  t.equal(unset.statusCode, 200, 'no UNKNOWN_PROFILE for "<null>": the default profile')
  t.same(runReply(unset).outputs['enrich.results.sources.ok'], ['asn', 'watchlist', 'classify'], 'sources: the default')
  const missing = await app.inject({ method: 'POST', url: '/run', payload: { indicator: '<null>' } })
  t.equal(missing.statusCode, 400)
  t.match(
    missing.json(),
    { error: { code: 'MISSING_PARAM', field: 'indicator' } },
    'a required param left unset is missing, by name',
  )
})

t.test(
  'outputs: the request names the outputs it wants (exact names or a trailing .*); unknown ones are a 400',
  async (t) => {
    const { app } = await startApp(t)
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: '8.8.8.8', outputs: ['enrich.results.verdict', 'enrich.results.asn.*'] },
    })
    t.equal(res.statusCode, 200)
    const outputs = runReply(res).outputs
    const names = Object.keys(outputs).sort()
    t.ok(names.includes('enrich.results.verdict'))
    t.ok(
      names.length > 1 && names.every((n) => n === 'enrich.results.verdict' || n.startsWith('enrich.results.asn.')),
      `only what was named: ${names.join(', ')}`,
    )
    t.notOk('enrich.results.json' in outputs, 'the whole document is neither built nor sent')
    const bad = await app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: '8.8.8.8', outputs: ['enrich.results.verdict', 'enrich.results.nope', 'nothing.*'] },
    })
    t.equal(bad.statusCode, 400)
    t.match(bad.json(), {
      error: { code: 'INVALID_PARAM', field: 'outputs', message: /enrich\.results\.nope, nothing\.\*/ },
    })
    const all = runReply(await app.inject({ method: 'POST', url: '/run', payload: { indicator: '8.8.8.8' } }))
    t.ok('enrich.results.json' in all.outputs, 'without outputs, the full reply as before')
  },
)
