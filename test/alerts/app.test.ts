/**
 * The alert worker inside the HTTP service: /run's verdicts reach Slack through the outbox and the delivery loop; the
 * /alerts routes behind their own token (ALERTS_TOKEN) and a Host check; free-form e-mail off by default and, when on,
 * only to ALERT_EMAIL_ALLOW, one message per recipient, rate limited; tests paced and only to rule destinations;
 * silences. 4xx name the field.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadAlertConfig } from '../../src/alerts/config.js'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { ACCESS_ID, SECRET_KEY, startSandbox } from '../platform/harness.js'
import { startApp } from '../helpers/app.js'
import { SLACK_TOKEN, slackError, startFakeSlack, startSmtp, tempDir, until } from './helpers.js'

const RUN_TOKEN = 'run-token-0123456789'
const ALERTS_TOKEN = 'alerts-token-0123456789'
const runAuth = { authorization: `Bearer ${RUN_TOKEN}` }
const auth = { authorization: `Bearer ${ALERTS_TOKEN}` }

const alertApp = async (
  t: Parameters<typeof startApp>[0],
  rules: unknown[],
  env: Record<string, string>,
  serviceEnv: Record<string, string> = {},
  now?: () => number,
) => {
  const dir = tempDir(t)
  const path = join(dir, 'rules.json')
  writeFileSync(path, JSON.stringify({ rules }))
  const alertEnv = {
    ALERTS_CONFIG: path,
    ALERTS_OUTBOX_PATH: join(dir, 'outbox.db'),
    ALERTS_GROUP_WAIT: '0',
    ALERTS_TOKEN,
    ...env,
  }
  const config = await loadAlertConfig(alertEnv, process.cwd())
  if (config === undefined) throw new Error('no alert config')
  return startApp(
    t,
    { RUN_TOKEN, ...serviceEnv },
    { alerts: { config, env: alertEnv, tickMs: 20, ...(now !== undefined ? { now } : {}) } },
  )
}

const socRule = { id: 'soc', service: 'verdict', minVerdict: 'malicious', destinations: { slackChannels: '#soc' } }

t.test('a watchlisted indicator enriched as malicious lands in Slack, once; a benign one raises nothing', async (t) => {
  const slack = await startFakeSlack(t)
  const { app, logs } = await alertApp(t, [socRule], { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: slack.url })
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      headers: runAuth,
      payload: { indicator: 'evil[.]example', sources: 'watchlist' },
    })
    t.equal(res.statusCode, 200)
  }
  const benign = await app.inject({
    method: 'POST',
    url: '/run',
    headers: runAuth,
    payload: { indicator: '192.0.2.200', sources: 'classify' },
  })
  t.equal(benign.statusCode, 200)
  await until(() => slack.accepted().length === 1)
  await new Promise((r) => setTimeout(r, 200))
  t.equal(slack.posts().length, 1, 'three runs of one indicator: one message')
  const body = slack.posts()[0]?.json as { blocks: Array<{ fields?: Array<{ text: string }> }> }
  t.equal(body.blocks[1]?.fields?.[0]?.text, 'evil[.]example', 'defanged where people read it')
  t.match(body.blocks[1]?.fields?.[1]?.text, 'watchlist: malicious')
  const listing = await app.inject({ method: 'GET', url: '/alerts', headers: auth })
  t.equal(listing.statusCode, 200)
  const json = listing.json() as {
    counts: { sent: number }
    entries: Array<{ destination: string; indicator: { value: string }; rule: string; state: string; alertId: string }>
  }
  t.equal(json.counts.sent, 1)
  t.same(
    [json.entries[0]?.destination, json.entries[0]?.indicator.value, json.entries[0]?.rule, json.entries[0]?.state],
    ['slack channel #soc', 'evil.example', 'soc', 'sent'],
  )
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.match(health.json(), { alerts: { pending: 0, failed: 0, dead: 0, sent: 1, silenced: 0 } })
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /alerts_deliveries_total\{notifier="slackChannels",outcome="sent"\} 1/)
  t.match(metrics.body, /alerts_raised_total\{service="verdict"\} 1/)
  t.notMatch(metrics.body + JSON.stringify(logs) + listing.body, SLACK_TOKEN)
})

t.test("a run that wrote back links its alert to the indicator's page in ThreatConnect", async (t) => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Host', value: 'evil.example' }] })
  const slack = await startFakeSlack(t)
  const { app } = await alertApp(
    t,
    [socRule],
    { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: slack.url },
    { TC_API_PATH: sandbox.url, TC_API_ACCESS_ID: ACCESS_ID, TC_API_SECRET_KEY: SECRET_KEY },
  )
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    headers: runAuth,
    payload: { indicator: 'evil.example', sources: 'watchlist', write_note: true },
  })
  t.equal(res.statusCode, 200)
  await until(() => slack.accepted().length === 1)
  const body = slack.posts()[0]?.json as { blocks: Array<{ type: string; elements?: Array<{ text: string }> }> }
  t.match(
    body.blocks.find((b) => b.type === 'context')?.elements?.[0]?.text,
    /^<https:\/\/app\.threatconnect\.com\/auth\/indicators\/details\/indicator\.xhtml\?id=\d+\|Open in ThreatConnect>$/,
  )
})

t.test('the /alerts routes take their own token, on loopback too, and only loopback or PUBLIC_URL hosts', async (t) => {
  const rules = [
    { id: 'x', service: 'verdict', minVerdict: 'malicious', destinations: { webhooks: 'http://127.0.0.1:9/hook' } },
  ]
  const routes = [
    { method: 'GET' as const, url: '/alerts' },
    { method: 'POST' as const, url: '/alerts/test', payload: { webhooks: 'http://127.0.0.1:9/hook' } },
    { method: 'POST' as const, url: '/alerts/email', payload: { to: 'a@example.com', subject: 's', text: 't' } },
    { method: 'POST' as const, url: '/alerts/silences', payload: { rule: 'x', duration: '1h', comment: 'c' } },
  ]
  const locked = await alertApp(t, rules, { ALERTS_TOKEN: '' })
  for (const req of routes) {
    const res = await locked.app.inject({ ...req, headers: auth })
    t.equal(res.statusCode, 403, `no ALERTS_TOKEN: ${req.method} ${req.url} is locked`)
    t.match(res.json(), { error: { code: 'ALERTS_LOCKED' } })
  }
  const { app } = await alertApp(t, rules, {}, { PUBLIC_URL: 'https://enrich.example.com' })
  for (const req of routes) {
    t.equal((await app.inject(req)).statusCode, 401, `${req.method} ${req.url} without a token`)
    t.equal((await app.inject({ ...req, headers: runAuth })).statusCode, 401, 'the RUN_TOKEN is not the ALERTS_TOKEN')
  }
  const rebound = await app.inject({ url: '/alerts', headers: { ...auth, host: 'attacker.example:3000' } })
  t.equal(rebound.statusCode, 421, 'a page rebinding its own name to this address is refused')
  t.match(rebound.json(), { error: { code: 'HOST_NOT_ALLOWED', field: 'host' } })
  for (const host of ['localhost:3000', '127.0.0.1', '[::1]:3000', 'enrich.example.com'])
    t.equal((await app.inject({ url: '/alerts', headers: { ...auth, host } })).statusCode, 200, host)
  const bad = await app.inject({ method: 'GET', url: '/alerts?state=lost', headers: auth })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { error: { field: 'state' } })
})

t.test('POST /alerts/email is off unless ALERTS_EMAIL_API=on', async (t) => {
  const smtp = await startSmtp(t)
  const { app } = await alertApp(
    t,
    [{ id: 'x', service: 'verdict', minVerdict: 'malicious', destinations: { email: 'soc@example.com' } }],
    { SMTP_URL: smtp.url, ALERT_EMAIL_FROM: 'TC alerts <alerts@example.com>' },
  )
  const res = await app.inject({
    method: 'POST',
    url: '/alerts/email',
    headers: auth,
    payload: { to: 'soc@example.com', subject: 's', text: 't' },
  })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { error: { code: 'ALERTS_OFF', message: /ALERTS_EMAIL_API=on/ } })
  t.equal(smtp.messages.length, 0)
})

t.test(
  'POST /alerts/email: only to ALERT_EMAIL_ALLOW, one message per recipient, a refused one retried alone',
  async (t) => {
    const smtp = await startSmtp(t)
    let wall = Date.parse('2026-12-01T12:00:00Z')
    const { app } = await alertApp(
      t,
      [],
      {
        SMTP_URL: smtp.url,
        ALERT_EMAIL_FROM: 'TC alerts <alerts@example.com>',
        ALERTS_EMAIL_API: 'on',
        ALERT_EMAIL_ALLOW: 'soc@example.com, @partner.example',
        ALERTS_API_RATE_LIMIT: '5/1h',
      },
      {},
      () => wall,
    )
    const send = (payload: unknown, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url: '/alerts/email', headers: { ...auth, ...headers }, payload: payload as object })
    const injected = await send({ to: 'soc@example.com', subject: 'hello\r\nBcc: victim@example.com', text: 'x' })
    t.equal(injected.statusCode, 400)
    t.match(injected.json(), { error: { code: 'INVALID_PARAM', field: 'subject' } })
    const badTo = await send({
      to: ['soc@example.com', 'soc@example.com\nBcc: v@example.com'],
      subject: 's',
      text: 'x',
    })
    t.match(badTo.json(), { error: { field: 'to[1]' } })
    const outside = await send({ to: ['a@partner.example', 'victim@evil.example'], subject: 's', text: 'x' })
    t.equal(outside.statusCode, 400)
    t.match(outside.json(), { error: { field: 'to[1]', message: /ALERT_EMAIL_ALLOW/ } })
    const many = await send({
      to: Array.from({ length: 21 }, (_, i) => `p${i}@partner.example`),
      subject: 's',
      text: 'x',
    })
    t.equal(many.statusCode, 400, 'at most 20 recipients')
    const unknownField = await send({ to: 'soc@example.com', subject: 's', text: 'x', cc: 'x@example.com' })
    t.equal(unknownField.statusCode, 400)
    t.equal(smtp.messages.length, 0, 'nothing refused was sent')

    smtp.refuse('busy@partner.example', 452, 'Mailbox temporarily full')
    const payload = { to: ['soc@example.com', 'busy@partner.example'], subject: 'Weekly summary', text: 'All quiet.' }
    const first = await send(payload, { 'idempotency-key': 'weekly-49' })
    t.equal(first.statusCode, 202, first.body)
    const reply = first.json() as { state: string; recipients: Array<{ to: string; state: string; detail: string }> }
    t.equal(reply.state, 'partial')
    t.same(
      reply.recipients.map((r) => [r.to, r.state]),
      [
        ['soc@example.com', 'sent'],
        ['busy@partner.example', 'failed'],
      ],
    )
    t.match(reply.recipients[1]?.detail, '452', 'the refusal is in the reply, not only in a log')
    t.equal(smtp.messages.length, 1)
    const mail = smtp.messages[0]
    t.equal(Array.isArray(mail?.to) ? '' : mail?.to?.text, 'soc@example.com', 'nobody sees the other recipients')
    t.equal(mail?.headers.get('auto-submitted'), 'auto-generated')

    const again = await send(payload, { 'idempotency-key': 'weekly-49' })
    t.same(
      (again.json() as typeof reply).recipients.map((r) => r.state),
      ['sent', 'failed'],
      'the same key is the same e-mail: nothing sent twice',
    )
    t.equal(smtp.messages.length, 1)
    const other = await send({ ...payload, text: 'Something else' }, { 'idempotency-key': 'weekly-49' })
    t.equal(other.statusCode, 409, 'the same key with another body is refused')
    t.notMatch(other.body, 'busy@partner.example', "and says nothing of the other e-mail's recipients")

    smtp.accept('busy@partner.example')
    wall += 31_000
    await until(() => smtp.messages.length === 2)
    const resent = smtp.messages[1]
    t.equal(Array.isArray(resent?.to) ? '' : resent?.to?.text, 'busy@partner.example', 'only the refused one again')
    const listing = (await app.inject({ url: '/alerts', headers: auth })).json() as {
      entries: Array<{ subject?: string; state: string }>
    }
    t.same(
      listing.entries.map((e) => [e.subject, e.state]),
      [
        ['Weekly summary', 'sent'],
        ['Weekly summary', 'sent'],
      ],
    )
    let limited
    for (let i = 0; i < 5 && limited?.statusCode !== 429; i++)
      limited = await send({ to: 'soc@example.com', subject: `n${i}`, text: 'x' })
    t.equal(limited?.statusCode, 429, 'ALERTS_API_RATE_LIMIT')
    t.ok(Number(limited?.headers['retry-after']) > 0)
  },
)

t.test(
  'POST /alerts/test: a sample to a destination a rule names, paced like any message; no other target, no oracle',
  async (t) => {
    const slack = await startFakeSlack(t)
    const receiver = await startFakeVendor(t)
    receiver.route('POST', '/hook', { status: 204 })
    const { app } = await alertApp(
      t,
      [
        {
          id: 'x',
          service: 'verdict',
          minVerdict: 'malicious',
          destinations: {
            slackChannels: ['#soc', '#private'],
            slackUsers: 'analyst@example.com',
            webhooks: `${receiver.url}/hook`,
          },
        },
      ],
      { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: slack.url, ALERTS_API_RATE_LIMIT: '100/1m' },
    )
    const test = (payload: unknown) =>
      app.inject({ method: 'POST', url: '/alerts/test', headers: auth, payload: payload as object })
    const ok = await test({ slackChannels: '#soc' })
    t.equal(ok.statusCode, 200)
    t.match(ok.json(), { destination: 'slack channel #soc', outcome: 'sent', detail: /Slack accepted it/ })
    const paced = await test({ slackChannels: '#soc' })
    t.equal(paced.statusCode, 429, 'a second message to the channel within a second waits, as a real alert would')
    t.ok(Number(paced.headers['retry-after']) >= 1)
    slack.answerPosts(slackError('not_in_channel'))
    const refused = await test({ slackChannels: '#private' })
    t.equal(refused.statusCode, 502)
    t.match(refused.json(), { outcome: 'dead', detail: /not_in_channel/ })
    const hook = await test({ webhooks: `${receiver.url}/hook` })
    t.equal(hook.statusCode, 200)
    t.equal(receiver.requests.length, 1)
    const misses = [
      { webhooks: 'http://127.0.0.1:1/steal' },
      { slackUsers: 'ceo@example.com' },
      { slackUsers: 'nobody@example.com' },
      { email: 'anyone@evil.example' },
    ]
    for (const miss of misses) {
      const res = await test(miss)
      t.equal(res.statusCode, 400, JSON.stringify(miss))
      t.same(
        (res.json() as { error: { message: string } }).error.message,
        'not a destination any rule in ALERTS_CONFIG names',
        'the same words for every miss: nothing learnt of who has an account',
      )
    }
    t.equal(slack.vendor.requestsTo('/api/users.lookupByEmail').length, 0, 'no lookup for a destination no rule names')
    const two = await test({ slackChannels: '#soc', email: 'a@example.com' })
    t.equal(two.statusCode, 400)
    const list = await app.inject({ method: 'GET', url: '/alerts', headers: auth })
    t.equal((list.json() as { entries: unknown[] }).entries.length, 0, 'tests do not go through the outbox')
  },
)

t.test('silences: matching alerts are recorded as silenced, not sent; lifted, the next one goes', async (t) => {
  const slack = await startFakeSlack(t)
  const { app } = await alertApp(t, [socRule], { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: slack.url })
  const silence = (payload: unknown) =>
    app.inject({ method: 'POST', url: '/alerts/silences', headers: auth, payload: payload as object })
  t.match((await silence({ duration: '1h', comment: 'x' })).json(), { error: { field: 'rule' } }, 'a matcher is needed')
  t.match((await silence({ rule: 'nope', duration: '1h', comment: 'x' })).json(), { error: { field: 'rule' } })
  t.match((await silence({ rule: 'soc', duration: '100d', comment: 'x' })).json(), { error: { field: 'duration' } })
  const made = await silence({ rule: 'soc', indicator: '*.example', duration: '2h', comment: 'maintenance, ana' })
  t.equal(made.statusCode, 201)
  const id = (made.json() as { id: string }).id
  const run = (indicator: string) =>
    app.inject({ method: 'POST', url: '/run', headers: runAuth, payload: { indicator, sources: 'watchlist' } })
  t.equal((await run('evil[.]example')).statusCode, 200)
  await until(() => slack.posts().length === 0)
  const listing = await app.inject({ url: '/alerts', headers: auth })
  const json = listing.json() as {
    counts: { silenced: number; pending: number }
    silences: Array<{ id: string; comment: string; indicator: string }>
    entries: Array<{ state: string; silencedUntil?: string }>
  }
  t.equal(json.counts.silenced, 1, 'recorded, not lost')
  t.equal(json.entries[0]?.state, 'silenced')
  t.ok(json.entries[0]?.silencedUntil)
  t.same(
    json.silences.map((s) => [s.id, s.indicator, s.comment]),
    [[id, '*.example', 'maintenance, ana']],
  )
  await new Promise((r) => setTimeout(r, 200))
  t.equal(slack.posts().length, 0, 'nothing sent while silenced')
  t.equal((await app.inject({ method: 'DELETE', url: `/alerts/silences/${id}`, headers: auth })).statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: `/alerts/silences/${id}`, headers: auth })).statusCode, 404)
  t.equal((await run('evil[.]example')).statusCode, 200)
  await until(() => slack.accepted().length === 1)
  t.pass('lifted: the alert raised again is sent (the silenced entry does not hold its key)')
})

t.test('without ALERTS_CONFIG the alert endpoints say the service is off', async (t) => {
  const { app } = await startApp(t, { RUN_TOKEN })
  const res = await app.inject({ method: 'GET', url: '/alerts', headers: auth })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { error: { code: 'ALERTS_OFF', message: /ALERTS_CONFIG/ } })
})
