/**
 * The alert service inside the HTTP service: /run's verdicts reach Slack through the outbox and the delivery loop;
 * POST /alerts/email, POST /alerts/test and GET /alerts behind the /run token, with 4xx naming the field.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadAlertConfig } from '../../src/alerts/config.js'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { ACCESS_ID, SECRET_KEY, startSandbox } from '../platform/harness.js'
import { startApp } from '../helpers/app.js'
import { SLACK_TOKEN, slackError, startFakeSlack, startSmtp, tempDir, until } from './helpers.js'

const TOKEN = 'run-token-0123456789'
const auth = { authorization: `Bearer ${TOKEN}` }

const alertApp = async (
  t: Parameters<typeof startApp>[0],
  rules: unknown[],
  env: Record<string, string>,
  serviceEnv: Record<string, string> = {},
) => {
  const dir = tempDir(t)
  const path = join(dir, 'rules.json')
  writeFileSync(path, JSON.stringify({ rules }))
  const alertEnv = { ALERTS_CONFIG: path, ALERTS_OUTBOX_PATH: join(dir, 'outbox.json'), ALERTS_GROUP_WAIT: '0', ...env }
  const config = await loadAlertConfig(alertEnv, process.cwd())
  if (config === undefined) throw new Error('no alert config')
  return startApp(t, { RUN_TOKEN: TOKEN, ...serviceEnv }, { alerts: { config, env: alertEnv, tickMs: 20 } })
}

t.test('a watchlisted indicator enriched as malicious lands in Slack, once; a benign one raises nothing', async (t) => {
  const slack = await startFakeSlack(t)
  const { app, logs } = await alertApp(
    t,
    [{ id: 'soc', service: 'verdict', minVerdict: 'malicious', destinations: { slackChannels: ['#soc'] } }],
    {
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_API_URL: slack.url,
    },
  )
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      headers: auth,
      payload: { indicator: 'evil[.]example', sources: 'watchlist' },
    })
    t.equal(res.statusCode, 200)
  }
  const benign = await app.inject({
    method: 'POST',
    url: '/run',
    headers: auth,
    payload: { indicator: '192.0.2.200', sources: 'classify' },
  })
  t.equal(benign.statusCode, 200)
  await until(() => slack.accepted().length === 1)
  await new Promise((r) => setTimeout(r, 200))
  t.equal(slack.posts().length, 1, 'three runs of one indicator: one message')
  const body = slack.posts()[0]?.json as { blocks: Array<{ fields?: Array<{ text: string }> }> }
  t.equal(body.blocks[1]?.fields?.[0]?.text, 'evil.example')
  t.match(body.blocks[1]?.fields?.[1]?.text, 'watchlist: malicious')
  const listing = await app.inject({ method: 'GET', url: '/alerts', headers: auth })
  t.equal(listing.statusCode, 200)
  const json = listing.json() as {
    counts: { sent: number }
    entries: Array<{ destination: string; indicator: { value: string }; rule: string; state: string }>
  }
  t.equal(json.counts.sent, 1)
  t.same(
    [json.entries[0]?.destination, json.entries[0]?.indicator.value, json.entries[0]?.rule, json.entries[0]?.state],
    ['slack channel #soc', 'evil.example', 'soc', 'sent'],
  )
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.match(health.json(), { alerts: { pending: 0, failed: 0, dead: 0, sent: 1 } })
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /alerts_deliveries_total\{notifier="slack",outcome="sent"\} 1/)
  t.match(metrics.body, /alerts_raised_total\{service="verdict"\} 1/)
  t.notMatch(metrics.body + JSON.stringify(logs) + listing.body, SLACK_TOKEN)
})

t.test("a run that wrote back links its alert to the indicator's page in ThreatConnect", async (t) => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Host', value: 'evil.example' }] })
  const slack = await startFakeSlack(t)
  const { app } = await alertApp(
    t,
    [{ id: 'soc', service: 'verdict', minVerdict: 'malicious', destinations: { slackChannels: ['#soc'] } }],
    { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: slack.url },
    { TC_API_PATH: sandbox.url, TC_API_ACCESS_ID: ACCESS_ID, TC_API_SECRET_KEY: SECRET_KEY },
  )
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    headers: auth,
    payload: { indicator: 'evil.example', sources: 'watchlist', write_note: true },
  })
  t.equal(res.statusCode, 200)
  await until(() => slack.accepted().length === 1)
  const body = slack.posts()[0]?.json as { blocks: Array<{ accessory?: { url: string } }> }
  t.match(
    body.blocks[1]?.accessory?.url,
    /^https:\/\/app\.threatconnect\.com\/auth\/indicators\/details\/indicator\.xhtml\?id=\d+$/,
  )
})

t.test('the alert endpoints take the /run token', async (t) => {
  const { app } = await alertApp(
    t,
    [{ id: 'x', service: 'verdict', minVerdict: 'malicious', destinations: { webhooks: ['http://127.0.0.1:9/hook'] } }],
    {},
  )
  for (const req of [
    { method: 'GET' as const, url: '/alerts' },
    { method: 'POST' as const, url: '/alerts/test', payload: { webhook: 'http://127.0.0.1:9/hook' } },
    { method: 'POST' as const, url: '/alerts/email', payload: { to: 'a@example.com', subject: 's', text: 't' } },
  ]) {
    const res = await app.inject(req)
    t.equal(res.statusCode, 401, `${req.method} ${req.url}`)
  }
  const bad = await app.inject({ method: 'GET', url: '/alerts?state=lost', headers: auth })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { error: { field: 'state' } })
})

t.test(
  'POST /alerts/email: a free-form e-mail through the outbox; header injection and bad recipients refused, naming the field',
  async (t) => {
    const smtp = await startSmtp(t)
    const { app } = await alertApp(
      t,
      [{ id: 'x', service: 'verdict', minVerdict: 'malicious', destinations: { email: ['soc@example.com'] } }],
      {
        SMTP_URL: smtp.url,
        ALERT_EMAIL_FROM: 'TC alerts <alerts@example.com>',
      },
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
    t.equal(badTo.statusCode, 400)
    t.match(badTo.json(), { error: { field: 'to[1]' } })
    const notAddress = await send({ to: ['not-an-address'], subject: 's', text: 'x' })
    t.match(notAddress.json(), { error: { field: 'to[0]' } })
    const unknownField = await send({ to: 'soc@example.com', subject: 's', text: 'x', cc: 'x@example.com' })
    t.equal(unknownField.statusCode, 400)
    t.equal(smtp.messages.length, 0, 'nothing refused was sent')

    const ok = await send(
      {
        to: ['soc@example.com', 'lead@example.com'],
        subject: 'Weekly summary',
        text: 'All quiet.',
        html: '<p>All quiet.</p>',
      },
      { 'idempotency-key': 'weekly-49' },
    )
    t.equal(ok.statusCode, 200, ok.body)
    const again = await send(
      {
        to: ['soc@example.com', 'lead@example.com'],
        subject: 'Weekly summary',
        text: 'All quiet.',
        html: '<p>All quiet.</p>',
      },
      { 'idempotency-key': 'weekly-49' },
    )
    t.equal(again.statusCode, 200)
    t.equal(again.json().id, ok.json().id, 'the same Idempotency-Key is the same e-mail')
    t.equal(smtp.messages.length, 1, 'sent once')
    const mail = smtp.messages[0]
    t.equal(mail?.subject, 'Weekly summary')
    t.match(mail?.html, '<p>All quiet.</p>')
    t.match(mail?.text, 'All quiet.')
    t.equal(Array.isArray(mail?.to) ? '' : mail?.to?.text, 'soc@example.com, lead@example.com')

    smtp.refuse('gone@example.com', 550, 'No such user')
    const dead = await send({ to: 'gone@example.com', subject: 's', text: 'x' })
    t.equal(dead.statusCode, 502)
    t.match(dead.json(), { state: 'dead', detail: /550/ })
  },
)

t.test(
  'POST /alerts/test: a sample to one destination, answering what the third party said; a webhook must be one a rule names',
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
          destinations: { slackChannels: ['#soc'], webhooks: [`${receiver.url}/hook`] },
        },
      ],
      {
        SLACK_BOT_TOKEN: SLACK_TOKEN,
        SLACK_API_URL: slack.url,
      },
    )
    const test = (payload: unknown) =>
      app.inject({ method: 'POST', url: '/alerts/test', headers: auth, payload: payload as object })
    const ok = await test({ slackChannel: '#soc' })
    t.equal(ok.statusCode, 200)
    t.match(ok.json(), { destination: 'slack channel #soc', outcome: 'sent', detail: /Slack accepted it/ })
    slack.answerPosts(slackError('not_in_channel'))
    const refused = await test({ slackChannel: '#private' })
    t.equal(refused.statusCode, 502)
    t.match(refused.json(), { outcome: 'dead', detail: /not_in_channel/ })
    const hook = await test({ webhook: `${receiver.url}/hook` })
    t.equal(hook.statusCode, 200)
    t.equal(receiver.requests.length, 1)
    const elsewhere = await test({ webhook: 'http://127.0.0.1:1/steal' })
    t.equal(elsewhere.statusCode, 400)
    t.match(elsewhere.json(), { error: { field: 'webhook', message: /not a webhook any rule/ } })
    const two = await test({ slackChannel: '#a', email: 'a@example.com' })
    t.equal(two.statusCode, 400)
    t.match(two.json(), { error: { message: /exactly one destination/ } })
    const noSmtp = await test({ email: 'a@example.com' })
    t.equal(noSmtp.statusCode, 502)
    t.match(noSmtp.json(), { outcome: 'dead', detail: /no email notifier/ })
    const list = await app.inject({ method: 'GET', url: '/alerts', headers: auth })
    t.equal((list.json() as { entries: unknown[] }).entries.length, 0, 'tests do not go through the outbox')
  },
)

t.test('without ALERTS_CONFIG the alert endpoints say the service is off', async (t) => {
  const { app } = await startApp(t, { RUN_TOKEN: TOKEN })
  const res = await app.inject({ method: 'GET', url: '/alerts', headers: auth })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { error: { code: 'ALERTS_OFF', message: /ALERTS_CONFIG/ } })
})
