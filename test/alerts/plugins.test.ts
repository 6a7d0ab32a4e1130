/**
 * The alert library from outside: the two example plugins under examples/ are loaded as a user loads them (named in
 * ALERTS_CONFIG's "plugins", importing 'tc-enrich/alerts' by Node's self-reference), their kinds used in rules, and run
 * against fakes that answer as the real systems do. Plus what the loader refuses, each named.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { definePlugin, defineNotifier, DeliveryError } from '../../src/alerts/library.js'
import { loadAlertConfig } from '../../src/alerts/config.js'
import { loadPlugins } from '../../src/alerts/plugin-loader.js'
import { AlertConfigError } from '../../src/alerts/rules.js'
import { startApp } from '../helpers/app.js'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { tempDir, testService, until } from './helpers.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const TEAMS = './examples/alerts-teams/teams.mjs'
const THREATFOX = './examples/alerts-threatfox/threatfox-watch.mjs'
const TEAMS_PATH = '/workflows/0a1b2c/triggers/manual/paths/invoke'
const TEAMS_QUERY = '?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=teams-signature-secret'

const malicious = (value: string, type = 'Host') => ({
  indicator: { type, value },
  verdict: 'malicious',
  score: 90,
  rating: 4,
  confidence: 80,
  tags: [],
  because: ['virustotal: malicious'],
})

interface Card {
  type: string
  attachments: Array<{
    contentType: string
    contentUrl: null
    content: {
      type: string
      version: string
      body: Array<{ type: string; text?: string; facts?: Array<{ title: string; value: string }> }>
    }
  }>
}

t.test('the Teams example: an Adaptive Card to a Workflows webhook; 202 sent, 429 retried, 400 dead', async (t) => {
  const workflow = await startFakeVendor(t)
  // A Workflows trigger answers 202 Accepted with an empty body; throttled, 429 with Retry-After.
  workflow.route(
    'POST',
    TEAMS_PATH,
    { status: 202, body: '' },
    { status: 429, headers: { 'retry-after': '7' }, body: '' },
    { status: 400, body: 'BadRequest' },
  )
  const { plugins, problems } = await loadPlugins([TEAMS], root)
  t.same(problems, [])
  const s = await testService({
    plugins,
    rules: [
      {
        id: 'soc',
        service: 'verdict',
        minVerdict: 'malicious',
        destinations: { teams: `${workflow.url}${TEAMS_PATH}${TEAMS_QUERY}` },
      },
    ],
    outboxPath: join(tempDir(t), 'outbox.db'),
    groupWaitMs: 0,
  })
  t.teardown(() => s.service.close())
  await s.service.observeRun([malicious('http://bad.example/x', 'URL')])
  t.same(
    (await s.service.deliverDue()).map((r) => [r.destination, r.outcome]),
    [[`teams ${new URL(workflow.url).host}`, 'sent']],
  )
  const posted = workflow.requestsTo(TEAMS_PATH)[0]
  t.match(posted?.headers['content-type'], 'application/json; charset=utf-8')
  const card = posted?.json as Card
  t.equal(card.type, 'message')
  t.equal(card.attachments[0]?.contentType, 'application/vnd.microsoft.card.adaptive')
  t.equal(card.attachments[0]?.content.type, 'AdaptiveCard')
  t.equal(card.attachments[0]?.content.version, '1.4')
  const facts = card.attachments[0]?.content.body.find((b) => b.type === 'FactSet')?.facts
  t.equal(facts?.[0]?.value, 'URL hxxp://bad\\[.\\]example/x', 'defanged, and its brackets cannot become Markdown')

  await s.service.observeRun([malicious('b.evil.test')])
  const [throttled] = await s.service.deliverDue()
  t.equal(throttled?.outcome, 'retry')
  t.ok(
    ((await s.outbox.list({ state: 'failed', limit: 1 })).entries[0]?.notBefore ?? 0) >= s.now() + 7_000,
    'Retry-After',
  )
  await s.advance(31_000)
  t.equal((await s.service.deliverDue())[0]?.outcome, 'dead', 'a 400 is not retried')
  t.notMatch(s.log(), 'teams-signature-secret', "the workflow's signature never reaches a log")
  t.notMatch(JSON.stringify(await s.service.deliverDue()), 'teams-signature-secret')
})

/** ThreatFox's get_iocs answer: the real export of 2026-10-03 (test/feeds/bodies) in the API's field names. */
const threatfoxAnswer = () => {
  const exported = JSON.parse(
    readFileSync(new URL('../feeds/bodies/threatfox-export-2026-10-03.json', import.meta.url), 'utf8'),
  ) as Record<string, Array<Record<string, unknown>>>
  return {
    query_status: 'ok',
    data: Object.entries(exported).map(([id, [ioc]]) => ({
      id,
      ioc: ioc?.['ioc_value'],
      threat_type: ioc?.['threat_type'],
      ioc_type: ioc?.['ioc_type'],
      malware: ioc?.['malware'],
      malware_printable: ioc?.['malware_printable'],
      malware_alias: ioc?.['malware_alias'],
      confidence_level: ioc?.['confidence_level'],
      first_seen: `${String(ioc?.['first_seen_utc'])} UTC`,
      last_seen: ioc?.['last_seen_utc'] === null ? null : `${String(ioc?.['last_seen_utc'])} UTC`,
      reference: ioc?.['reference'],
      reporter: ioc?.['reporter'],
      tags: typeof ioc?.['tags'] === 'string' ? String(ioc['tags']).split(',') : [],
    })),
  }
}

t.test("the ThreatFox example: a service polling another system, on the worker's checkpoint", async (t) => {
  const threatfox = await startFakeVendor(t)
  threatfox.route('POST', '/api/v1/', (req) =>
    req.headers['auth-key'] === 'tf-auth-key-secret'
      ? { json: threatfoxAnswer() }
      : { status: 401, body: 'Unauthorized' },
  )
  const { plugins } = await loadPlugins([THREATFOX], root)
  const rule = {
    id: 'cobalt',
    service: 'threatfox',
    malware: ['cobalt strike'],
    minConfidence: 75,
    destinations: { webhooks: 'https://hooks.test/ti' },
  }
  const missing = await testService({ plugins, rules: [rule], outboxPath: join(tempDir(t), 'a.db') }).catch(
    (e: unknown) => e,
  )
  t.ok(missing instanceof AlertConfigError)
  t.match((missing as AlertConfigError).problems.join(), "service 'threatfox': needs THREATFOX_AUTH_KEY")

  const s = await testService({
    plugins,
    rules: [rule],
    outboxPath: join(tempDir(t), 'outbox.db'),
    env: { THREATFOX_AUTH_KEY: 'tf-auth-key-secret', THREATFOX_API_URL: `${threatfox.url}/api/v1/` },
  })
  t.teardown(() => s.service.close())
  t.ok(s.service.hasPolling)
  const [first] = await s.service.poll()
  const cobalt = threatfoxAnswer().data.filter((d) => d.malware_printable === 'Cobalt Strike')
  t.ok(cobalt.length >= 2, 'the real sample has Cobalt Strike C2s')
  const addresses = new Set(cobalt.map((d) => String(d.ioc).split(':')[0]))
  t.equal(first?.found, cobalt.length)
  t.equal(first?.added, addresses.size, 'one IP on two ports is one Address: one alert')
  t.same(threatfox.requests[0]?.json, { query: 'get_iocs', days: 1 })
  const listing = await s.outbox.list({ limit: 20 })
  const c2 = listing.entries.find((e) => e.alert?.indicator.value === '144.172.68.200')?.alert
  t.match(c2, {
    service: 'threatfox',
    type: 'threatfox',
    indicator: { type: 'Address', value: '144.172.68.200' },
    rating: 4,
    reason: /^ThreatFox: Cobalt Strike botnet_cc on port (80|8080)$/,
    link: /^https:\/\/threatfox\.abuse\.ch\/ioc\/194883[34]\/$/,
  })
  t.equal(await s.outbox.meta('checkpoint:threatfox:cobalt'), '2026-10-03T16:05:06.000Z', 'the newest first_seen')
  const [second] = await s.service.poll()
  t.same(second, { rule: 'cobalt', found: 0, added: 0 }, 'nothing newer than the checkpoint: nothing raised again')

  threatfox.route('POST', '/api/v1/', { status: 401, body: 'Unauthorized' })
  const [refused] = await s.service.poll()
  t.match(refused?.error, '401', 'a refused poll is reported for its rule, not swallowed')
  t.notMatch(s.log(), 'tf-auth-key-secret')
})

t.test('through ALERTS_CONFIG: "plugins" loads both examples into the running service', async (t) => {
  const workflow = await startFakeVendor(t)
  workflow.route('POST', TEAMS_PATH, { status: 202, body: '' })
  const dir = tempDir(t)
  const config = join(dir, 'alerts.json')
  writeFileSync(
    config,
    JSON.stringify({
      plugins: [TEAMS, THREATFOX],
      rules: [
        {
          id: 'soc',
          service: 'verdict',
          minVerdict: 'malicious',
          destinations: { teams: `${workflow.url}${TEAMS_PATH}${TEAMS_QUERY}` },
        },
      ],
    }),
  )
  const env = {
    ALERTS_CONFIG: config,
    ALERTS_OUTBOX_PATH: join(dir, 'outbox.db'),
    ALERTS_GROUP_WAIT: '0',
    ALERTS_TOKEN: 'alerts-token-0123456789',
  }
  const loaded = await loadAlertConfig(env, dir, root)
  if (loaded === undefined) throw new Error('no config')
  t.ok(loaded.registry.notifiers.has('teams') && loaded.registry.services.has('threatfox'))
  const { app } = await startApp(t, {}, { alerts: { config: loaded, env, tickMs: 20 } })
  const run = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: 'evil[.]example', sources: 'watchlist' },
  })
  t.equal(run.statusCode, 200)
  await until(() => workflow.requestsTo(TEAMS_PATH).length === 1)
  const test = await app.inject({
    method: 'POST',
    url: '/alerts/test',
    headers: { authorization: 'Bearer alerts-token-0123456789' },
    payload: { teams: `${workflow.url}${TEAMS_PATH}${TEAMS_QUERY}` },
  })
  t.equal(test.statusCode, 200, 'a plugin destination takes a test like a built-in one')
})

t.test('what the loader and the registry refuse, each named', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'not-a-plugin.mjs'), 'export default { notifiers: {} }\n')
  writeFileSync(join(dir, 'broken.mjs'), 'export default definePlugin(\n')
  const { problems } = await loadPlugins(
    ['./not-a-plugin.mjs', './broken.mjs', './missing.mjs', 'no-such-package'],
    dir,
  )
  t.match(problems[0], "plugins[0] ('./not-a-plugin.mjs'): its default export is not a plugin")
  t.match(problems[1], "plugins[1] ('./broken.mjs'): cannot be loaded")
  t.match(problems[2], "plugins[2] ('./missing.mjs'): cannot be loaded")
  t.match(problems[3], "plugins[3] ('no-such-package'): cannot be loaded")

  const clash = definePlugin({
    notifiers: {
      email: defineNotifier({ formatter: 'email', create: () => ({ send: async () => undefined }) }),
      pager: defineNotifier({ formatter: 'pager-text', create: () => ({ send: async () => undefined }) }),
      'bad kind': defineNotifier({ formatter: 'text', create: () => ({ send: async () => undefined }) }),
    },
    services: { half: { hears: 'verdict' } },
  })
  const err = await testService({
    plugins: [{ name: 'plugins[0]', plugin: clash }],
    rules: [],
    outboxPath: join(dir, 'o.db'),
  }).catch((e: unknown) => e)
  const text = (err as AlertConfigError).problems.join('\n')
  t.match(text, "plugins[0]: notifier 'email': already defined by the built-ins")
  t.match(text, "notifier 'pager': formatter 'pager-text' is not defined")
  t.match(text, "notifier 'bad kind': a kind is a letter")
  t.match(text, "service 'half': a service needs fetch() (polling) or hears + select() (events)")
})

t.test('a notifier says "never" with retry: false, and "later" with any other throw', async (t) => {
  const calls: string[] = []
  const flaky = definePlugin({
    notifiers: {
      flaky: defineNotifier<string>({
        formatter: 'text',
        create: (mode) => ({
          async send(message) {
            calls.push(`${mode}:${message.attempt}:${message.alerts.length}`)
            if (mode === 'never') throw new DeliveryError('the pager rejected the service key', { retry: false })
            if (mode === 'later') throw new Error('pager busy')
            return { receipt: 'p-1' }
          },
        }),
      }),
    },
  })
  const s = await testService({
    plugins: [{ name: 'flaky', plugin: flaky }],
    rules: [
      { id: 'r', service: 'verdict', minVerdict: 'malicious', destinations: { flaky: ['never', 'later', 'ok'] } },
    ],
    outboxPath: join(tempDir(t), 'o.db'),
    groupWaitMs: 0,
  })
  t.teardown(() => s.service.close())
  await s.service.observeRun([malicious('a.evil.test')])
  const reports = Object.fromEntries((await s.service.deliverDue()).map((r) => [r.destination, r]))
  const outcomes = Object.values(reports)
    .map((r) => `${r.outcome}:${r.detail}`)
    .sort()
  t.same(outcomes, ['dead:the pager rejected the service key', 'retry:pager busy', 'sent:delivered'])
  await s.advance(30_000)
  await s.service.deliverDue()
  t.same(calls.sort(), ['later:1:1', 'later:2:1', 'never:1:1', 'ok:1:1'], 'only the "later" one was tried again')
})
