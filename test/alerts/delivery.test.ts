/**
 * The alert worker end to end against real parts on 127.0.0.1: a fake Slack answering as Slack does (ok, {ok:false}
 * errors, 429 + Retry-After, 500), a real SMTP server, a webhook receiver; the SQLite outbox; a clock the test moves.
 */
import { createHmac } from 'node:crypto'
import { join } from 'node:path'
import t from 'tap'
import type { VerdictEvent } from '../../src/alerts/services/verdict.js'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import {
  SLACK_TOKEN,
  WEBHOOK_PATH,
  WEBHOOK_SECRET,
  slackError,
  startFakeSlack,
  startSmtp,
  tempDir,
  testService,
} from './helpers.js'

const malicious = (value: string, type = 'Host'): VerdictEvent => ({
  indicator: { type, value },
  verdict: 'malicious',
  score: 90,
  rating: 4,
  confidence: 80,
  tags: ['c2'],
  because: ['virustotal: malicious'],
})

const slackRule = (channels: string[], id = 'soc-malicious') => ({
  id,
  service: 'verdict',
  minVerdict: 'malicious',
  destinations: { slackChannels: channels },
})

interface Posted {
  channel: string
  text: string
  blocks: Array<{
    type: string
    text?: { type: string; text: string }
    fields?: Array<{ type: string; text: string }>
    elements?: Array<{ text: string }>
  }>
}
const posted = (json: unknown): Posted => json as Posted

t.test('without a verdict rule the service says so (and /run then builds no verdict events)', async (t) => {
  const s = await testService({
    rules: [
      { id: 'watch', service: 'watchlist', tql: 'rating >= 4', destinations: { webhooks: 'https://hooks.example/a' } },
    ],
    outboxPath: join(tempDir(t), 'outbox.db'),
  })
  t.teardown(() => s.service.close())
  t.equal(s.service.hearsVerdicts, false)
  t.equal(await s.service.observeRun([malicious('a.evil.test')]), 0, 'and a verdict handed over anyway raises nothing')
})

t.test('malicious verdicts reach Slack once, grouped after ALERTS_GROUP_WAIT into one message', async (t) => {
  const slack = await startFakeSlack(t)
  const s = await testService({
    rules: [slackRule(['#soc'])],
    outboxPath: join(tempDir(t), 'outbox.db'),
    slackUrl: slack.url,
  })
  t.teardown(() => s.service.close())
  t.ok(s.service.hearsVerdicts, 'a verdict rule: /run hands its verdicts over')
  t.equal(await s.service.observeRun([malicious('a.evil.test'), malicious('b.evil.test')]), 2)
  await s.advance(10_000)
  t.equal(
    await s.service.observeRun([malicious('c.evil.test'), malicious('a.evil.test')]),
    1,
    'a repeat of a dedup key is not added again',
  )
  t.equal(
    await s.service.observeRun([{ ...malicious('d.evil.test'), verdict: 'suspicious' }]),
    0,
    'below minVerdict: no alert',
  )
  t.equal(
    await s.service.observeRun([{ ...malicious('a.evil.test'), rating: 5, score: 99 }]),
    0,
    'the same verdict with another score is not news',
  )

  t.same(await s.service.deliverDue(), [], 'the group waits 30 s from its first alert')
  t.equal(slack.posts().length, 0)
  await s.advance(20_000)
  const reports = await s.service.deliverDue()
  t.equal(reports.length, 1)
  t.equal(reports[0]?.outcome, 'sent')
  t.equal(slack.accepted().length, 1, 'one message for the three alerts')
  const body = posted(slack.posts()[0]?.json)
  t.equal(body.channel, '#soc')
  t.equal(body.blocks.filter((b) => b.type === 'section').length, 3)
  t.match(
    slack.posts()[0]?.headers.authorization,
    `Bearer ${SLACK_TOKEN}`,
    'the bot token goes to Slack, as a bearer token',
  )
  const listing = await s.outbox.list({ limit: 10 })
  t.equal(listing.counts.sent, 3)
  t.ok(listing.entries.every((e) => e.receipt?.startsWith('#soc/') === true && e.groupSize === 3))

  await s.advance(60_000)
  t.same(await s.service.deliverDue(), [], 'nothing is sent twice')
  t.equal(await s.service.observeRun([malicious('a.evil.test')]), 0, 'a sent alert stays deduplicated')
  t.equal(slack.posts().length, 1)
})

t.test(
  'permanent Slack errors (channel_not_found, not_in_channel, is_archived, invalid_auth) go dead at once and are never retried',
  async (t) => {
    for (const error of ['channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth']) {
      const slack = await startFakeSlack(t)
      slack.answerPosts(slackError(error))
      const s = await testService({
        rules: [slackRule(['#gone'])],
        outboxPath: join(tempDir(t), 'outbox.db'),
        slackUrl: slack.url,
        groupWaitMs: 0,
      })
      await s.service.observeRun([malicious('x.evil.test')])
      const [report] = await s.service.deliverDue()
      t.equal(report?.outcome, 'dead', error)
      t.match(report?.detail, error)
      await s.advance(48 * 3_600_000)
      t.same(await s.service.deliverDue(), [], `${error}: no retry`)
      t.equal(slack.posts().length, 1)
      t.equal((await s.outbox.list({ state: 'dead', limit: 5 })).counts.dead, 1)
      await s.service.close()
    }
  },
)

t.test('a 429 with Retry-After holds every Slack call for that long; then the message goes', async (t) => {
  const slack = await startFakeSlack(t)
  slack.answerPosts({ status: 429, headers: { 'retry-after': '20' }, json: { ok: false, error: 'ratelimited' } }, 'ok')
  const rules = [
    slackRule(['#soc']),
    { id: 'second', service: 'feed', minRating: 3, destinations: { slackChannels: '#other' } },
  ]
  const s = await testService({ rules, outboxPath: join(tempDir(t), 'outbox.db'), slackUrl: slack.url, groupWaitMs: 0 })
  t.teardown(() => s.service.close())
  await s.service.observeRun([malicious('x.evil.test')])
  const [first] = await s.service.deliverDue()
  t.equal(first?.outcome, 'retry')
  const entry = (await s.outbox.list({ limit: 1 })).entries[0]
  t.equal(entry?.state, 'failed')
  t.ok((entry?.notBefore ?? 0) >= s.now() + 20_000, 'not tried again before Retry-After')
  // Another channel in the same workspace waits too.
  await s.service.observeFeed({
    feed: 'urlhaus',
    items: [{ type: 'Host', summary: 'y.evil.test', rating: 4, confidence: 80, tags: [] }],
  })
  await s.advance(5_000)
  const held = await s.service.deliverDue()
  t.same(
    held.map((r) => r.outcome),
    ['waiting'],
    'the workspace is paused',
  )
  t.equal(slack.posts().length, 1)
  await s.advance(31_000)
  const later = await s.service.deliverDue()
  t.same(later.map((r) => r.outcome).sort(), ['sent', 'sent'])
  t.equal(slack.accepted().length, 2)
})

t.test(
  'a 500, internal_error and a reply slower than the timeout are retried with backoff, then delivered',
  async (t) => {
    const slack = await startFakeSlack(t)
    slack.answerPosts({ status: 500, body: 'oops' }, slackError('internal_error'), 'ok')
    const s = await testService({
      rules: [slackRule(['#soc'])],
      outboxPath: join(tempDir(t), 'outbox.db'),
      slackUrl: slack.url,
      groupWaitMs: 0,
    })
    t.teardown(() => s.service.close())
    await s.service.observeRun([malicious('x.evil.test')])
    t.equal((await s.service.deliverDue())[0]?.outcome, 'retry')
    let e = (await s.outbox.list({ limit: 1 })).entries[0]
    t.equal(e?.attempts, 1)
    t.equal(e?.notBefore, s.now() + 30_000, 'first backoff 30 s')
    await s.advance(29_000)
    t.same(await s.service.deliverDue(), [], 'not before its backoff')
    await s.advance(1_000)
    t.equal((await s.service.deliverDue())[0]?.outcome, 'retry', 'internal_error (HTTP 200, ok:false) is transient')
    e = (await s.outbox.list({ limit: 1 })).entries[0]
    t.equal(e?.notBefore, s.now() + 60_000, 'the backoff doubles')
    await s.advance(60_000)
    t.equal((await s.service.deliverDue())[0]?.outcome, 'sent')
    t.equal(slack.accepted().length, 1)
    t.equal(slack.posts().length, 3)
  },
)

t.test(
  'a Slack user is reached by e-mail: users.lookupByEmail, conversations.open, then the DM; an unknown user is dead',
  async (t) => {
    const slack = await startFakeSlack(t)
    const rule = {
      id: 'dm',
      service: 'verdict',
      minVerdict: 'malicious',
      destinations: { slackUsers: ['analyst@example.com', 'nobody@example.com'] },
    }
    const s = await testService({
      rules: [rule],
      outboxPath: join(tempDir(t), 'outbox.db'),
      slackUrl: slack.url,
      groupWaitMs: 0,
    })
    t.teardown(() => s.service.close())
    await s.service.observeRun([malicious('x.evil.test')])
    const reports = await s.service.deliverDue()
    t.same(reports.map((r) => r.outcome).sort(), ['dead', 'sent'])
    t.match(reports.find((r) => r.outcome === 'dead')?.detail, 'users_not_found')
    t.equal(posted(slack.posts()[0]?.json).channel, 'D0ANALYST')
    t.equal(
      slack.vendor.requestsTo('/api/conversations.open')[0]?.json &&
        (slack.vendor.requestsTo('/api/conversations.open')[0]?.json as { users: string }).users,
      'U0ANALYST',
    )
  },
)

t.test("what Slack receives keeps to Block Kit's limits and cannot be abused", async (t) => {
  const slack = await startFakeSlack(t)
  const s = await testService({
    rules: [slackRule(['#soc'])],
    outboxPath: join(tempDir(t), 'outbox.db'),
    slackUrl: slack.url,
    groupWaitMs: 0,
  })
  t.teardown(() => s.service.close())
  const long = 'x'.repeat(5000)
  await s.service.observeRun([
    malicious('<!channel> <https://phish.test|click me> & *bold*', 'URL'),
    ...Array.from({ length: 69 }, (_, i) => malicious(`${i}.${long}.test`)),
  ])
  await s.service.deliverDue()
  t.equal(slack.posts().length, 1, 'one message for 70 alerts')
  const body = posted(slack.posts()[0]?.json)
  t.ok(body.blocks.length <= 50, `${body.blocks.length} blocks`)
  t.ok(JSON.stringify(body.blocks).length < 13_000, 'well under msg_blocks_too_long')
  const header = body.blocks[0]
  t.equal(header?.type, 'header')
  t.ok((header?.text?.text.length ?? 0) <= 150)
  for (const b of body.blocks) {
    t.ok((b.text?.text.length ?? 0) <= 3000)
    for (const f of b.fields ?? []) {
      t.equal(f.type, 'plain_text', 'values are plain text, never mrkdwn')
      t.ok(f.text.length <= 2000)
    }
  }
  t.match(body.blocks.at(-1)?.elements?.[0]?.text, /and \d+ more alerts/)
  t.notMatch(JSON.stringify(body), /"type":"mrkdwn","text":"[^"]*<!channel>/, 'no mrkdwn carries the value')
  t.notMatch(body.text, /<!channel>|<https:/, 'the fallback text (which Slack parses) has no live mention or link')
  const section = body.blocks.find((b) => b.fields?.[0]?.text.includes('phish') === true)
  t.equal(
    section?.fields?.[0]?.text,
    '<!channel> <https://phish[.]test|click me> & *bold*',
    'shown defanged, as plain text',
  )
  t.match(slack.posts()[0]?.headers['content-type'], 'application/json; charset=utf-8', 'JSON says its charset')
  t.equal((await s.outbox.list({ limit: 1 })).counts.sent, 70, 'every alert of the message is recorded as sent')
})

t.test(
  'the Slack incoming webhook: ok is sent, 404 channel_not_found is dead, and its URL never reaches a log',
  async (t) => {
    const slack = await startFakeSlack(t)
    const rule = {
      id: 'hook',
      service: 'verdict',
      minVerdict: 'malicious',
      destinations: { slackWebhook: true },
    }
    const s = await testService({
      rules: [rule],
      outboxPath: join(tempDir(t), 'outbox.db'),
      slackWebhookUrl: `${slack.vendor.url}${WEBHOOK_PATH}`,
      groupWaitMs: 0,
    })
    t.teardown(() => s.service.close())
    await s.service.observeRun([malicious('x.evil.test')])
    t.equal((await s.service.deliverDue())[0]?.outcome, 'sent')
    t.ok((slack.vendor.requestsTo(WEBHOOK_PATH)[0]?.json as { blocks?: unknown[] }).blocks !== undefined)
    slack.vendor.route('POST', WEBHOOK_PATH, { status: 404, body: 'channel_not_found' })
    await s.service.observeRun([malicious('y.evil.test')])
    await s.advance(1_000) // the incoming webhook takes one message a second, as Slack documents
    const [dead] = await s.service.deliverDue()
    t.equal(dead?.outcome, 'dead')
    t.match(dead?.detail, 'channel_not_found')
    t.notMatch(s.log(), 'webhooksecretpart', 'the webhook path is a credential: not in the log')
    t.notMatch(JSON.stringify(await s.outbox.list({ limit: 10 })), 'webhooksecretpart')
  },
)

t.test('e-mail over a real SMTP server: multipart text then HTML, values escaped, no header injection', async (t) => {
  const smtp = await startSmtp(t)
  const rule = {
    id: 'mail',
    service: 'verdict',
    minVerdict: 'malicious',
    destinations: { email: ['soc@example.com'] },
  }
  const s = await testService({
    rules: [rule],
    outboxPath: join(tempDir(t), 'outbox.db'),
    smtpUrl: smtp.url,
    groupWaitMs: 0,
  })
  t.teardown(() => s.service.close())
  await s.service.observeRun([
    malicious('evil.test\r\nBcc: victim@example.com\r\nX-Injected: yes'),
    malicious('<script>alert(1)</script>.test'),
  ])
  const [report] = await s.service.deliverDue()
  t.equal(report?.outcome, 'sent')
  t.equal(smtp.messages.length, 1)
  const mail = smtp.messages[0]
  t.equal(mail?.to && !Array.isArray(mail.to) ? mail.to.text : '', 'soc@example.com')
  t.equal(mail?.bcc, undefined, 'no Bcc header was injected')
  t.equal(mail?.headers.get('x-injected'), undefined)
  t.notMatch(mail?.subject, /[\r\n]/)
  t.match(mail?.text, 'evil[.]test', 'defanged')
  t.notMatch(mail?.html, '<script>', 'HTML-escaped')
  t.match(mail?.html, '&lt;script&gt;')
  const raw = smtp.raw[0] ?? ''
  t.match(raw, /multipart\/alternative/)
  t.ok(raw.indexOf('text/plain') < raw.indexOf('text/html'), 'the plain part first')
})

t.test('SMTP 452 is retried, 550 is dead', async (t) => {
  const smtp = await startSmtp(t)
  smtp.refuse('busy@example.com', 452, 'Mailbox temporarily full')
  smtp.refuse('gone@example.com', 550, 'No such user')
  const rule = {
    id: 'mail',
    service: 'verdict',
    minVerdict: 'malicious',
    destinations: { email: ['busy@example.com', 'gone@example.com'] },
  }
  const s = await testService({
    rules: [rule],
    outboxPath: join(tempDir(t), 'outbox.db'),
    smtpUrl: smtp.url,
    groupWaitMs: 0,
  })
  t.teardown(() => s.service.close())
  await s.service.observeRun([malicious('x.evil.test')])
  const reports = await s.service.deliverDue()
  const by = Object.fromEntries(reports.map((r) => [r.destination, r]))
  t.equal(by['email busy@example.com']?.outcome, 'retry')
  t.match(by['email busy@example.com']?.detail, '452')
  t.equal(by['email gone@example.com']?.outcome, 'dead')
  t.match(by['email gone@example.com']?.detail, '550')
  t.equal(smtp.messages.length, 0)
})

t.test(
  'the generic webhook: Standard Webhooks signature, one id per message on every attempt, 503 retried, 404 dead',
  async (t) => {
    const receiver = await startFakeVendor(t)
    receiver.route(
      'POST',
      '/hooks/alerts',
      { status: 503, headers: { 'retry-after': '45' }, body: 'busy' },
      { status: 202, body: '' },
    )
    receiver.route('POST', '/hooks/missing', { status: 404, body: 'no such hook' })
    const rule = {
      id: 'hook',
      service: 'verdict',
      minVerdict: 'malicious',
      destinations: { webhooks: [`${receiver.url}/hooks/alerts?token=abc123secret`, `${receiver.url}/hooks/missing`] },
    }
    const s = await testService({ rules: [rule], outboxPath: join(tempDir(t), 'outbox.db'), groupWaitMs: 0 })
    t.teardown(() => s.service.close())
    await s.service.observeRun([malicious('x.evil.test')])
    const first = await s.service.deliverDue()
    t.same(first.map((r) => r.outcome).sort(), ['dead', 'retry'])
    const failed = (await s.outbox.list({ state: 'failed', limit: 1 })).entries[0]
    t.ok((failed?.notBefore ?? 0) >= s.now() + 45_000, 'Retry-After on a 503 is honoured')
    await s.advance(45_000)
    t.same(
      (await s.service.deliverDue()).map((r) => r.outcome),
      ['sent'],
    )
    const [firstTry, req] = receiver.requestsTo('/hooks/alerts')
    const id = req?.headers['webhook-id'] as string
    const timestamp = req?.headers['webhook-timestamp'] as string
    const expected = `v1,${createHmac('sha256', WEBHOOK_SECRET)
      .update(`${id}.${timestamp}.${req?.body ?? ''}`)
      .digest('base64')}`
    t.equal(
      req?.headers['webhook-signature'],
      expected,
      'Standard Webhooks: the signature verifies over id.timestamp.body',
    )
    t.equal(
      Number(timestamp),
      Math.floor(s.now() / 1000),
      'the timestamp is when it was sent (a receiver refuses old ones)',
    )
    t.equal(req?.headers['idempotency-key'], id)
    t.equal(firstTry?.headers['webhook-id'], id, 'the retry is the same message: the same id and Idempotency-Key')
    t.equal(firstTry?.headers['idempotency-key'], id)
    t.not(firstTry?.headers['webhook-timestamp'], timestamp, 'signed anew, with the time of this attempt')
    const payload = JSON.parse(req?.body ?? '{}') as {
      count: number
      type: string
      alerts: Array<{ id: string; indicator: { value: string } }>
    }
    t.equal(payload.count, 1)
    t.equal(payload.type, 'verdict')
    t.equal(payload.alerts[0]?.indicator.value, 'x.evil.test', 'the raw value: a receiver is a machine')
    t.match(payload.alerts[0]?.id, /^[0-9a-f]{32}$/, 'each alert carries its stable id')
    t.notMatch(s.log(), 'abc123secret', 'a webhook URL with a token in it stays out of the log')
    t.notMatch(
      JSON.stringify(await s.outbox.list({ limit: 10 })).replace(/"(target|settings)":"[^"]*"/g, ''),
      'abc123secret',
    )
  },
)

t.test('no secret in logs or metrics: bot token, webhook path, SMTP password', async (t) => {
  const slack = await startFakeSlack(t)
  slack.answerPosts(slackError('invalid_auth'))
  const smtp = await startSmtp(t, { user: 'mailer', pass: 'smtp-pass-0123456789' })
  const rule = {
    id: 'all',
    service: 'verdict',
    minVerdict: 'malicious',
    destinations: { slackChannels: ['#soc'], email: ['soc@example.com'], slackWebhook: true },
  }
  const wrongPass = smtp.url.replace('smtp-pass-0123456789', 'wrong-pass-0123456789')
  const s = await testService({
    rules: [rule],
    outboxPath: join(tempDir(t), 'outbox.db'),
    slackUrl: slack.url,
    slackWebhookUrl: `${slack.vendor.url}${WEBHOOK_PATH}`,
    smtpUrl: wrongPass,
    groupWaitMs: 0,
    // The inbox offers no STARTTLS: a loopback relay, allowed in clear only when the operator says so.
    env: { SMTP_ALLOW_PLAINTEXT: 'on' },
  })
  t.teardown(() => s.service.close())
  await s.service.observeRun([malicious('x.evil.test')])
  const reports = await s.service.deliverDue()
  t.equal(reports.find((r) => r.destination.startsWith('email'))?.outcome, 'dead', 'a refused SMTP login is permanent')
  t.match(reports.find((r) => r.destination.startsWith('email'))?.detail, 'SMTP_URL')
  const everything = `${s.log()}\n${JSON.stringify(reports)}\n${JSON.stringify(await s.outbox.list({ limit: 10 }))}\n${await s.metrics.render()}`
  for (const secret of [SLACK_TOKEN, 'webhooksecretpart', 'wrong-pass-0123456789', 'smtp-pass-0123456789'])
    t.notMatch(everything, secret, `no ${secret.slice(0, 6)}…`)
})

t.test('a Slack user named by member id is posted to at once: no lookup, no extra scope', async (t) => {
  const slack = await startFakeSlack(t)
  const s = await testService({
    rules: [{ id: 'dm', service: 'verdict', minVerdict: 'malicious', destinations: { slackUsers: 'U0123ABCD' } }],
    outboxPath: join(tempDir(t), 'outbox.db'),
    slackUrl: slack.url,
    groupWaitMs: 0,
  })
  t.teardown(() => s.service.close())
  await s.service.observeRun([malicious('x.evil.test')])
  t.same(
    (await s.service.deliverDue()).map((r) => [r.destination, r.outcome]),
    [['slack user U0123ABCD', 'sent']],
  )
  t.equal(posted(slack.posts()[0]?.json).channel, 'U0123ABCD')
  t.equal(slack.vendor.requestsTo('/api/users.lookupByEmail').length, 0)
  t.equal(slack.vendor.requestsTo('/api/conversations.open').length, 0)
})

t.test(
  'a failed message is retried as it was: same alerts, same id, never merged with alerts raised since',
  async (t) => {
    const receiver = await startFakeVendor(t)
    receiver.route('POST', '/hook', { status: 503, body: 'busy' }, { status: 200, body: 'ok' })
    const s = await testService({
      rules: [
        { id: 'hook', service: 'verdict', minVerdict: 'malicious', destinations: { webhooks: `${receiver.url}/hook` } },
      ],
      outboxPath: join(tempDir(t), 'outbox.db'),
      groupWaitMs: 0,
    })
    t.teardown(() => s.service.close())
    await s.service.observeRun([malicious('a.evil.test'), malicious('b.evil.test'), malicious('c.evil.test')])
    t.same(
      (await s.service.deliverDue()).map((r) => r.outcome),
      ['retry'],
    )
    await s.service.observeRun([malicious('d.evil.test')])
    await s.advance(30_000)
    const reports = await s.service.deliverDue()
    t.same(reports.map((r) => [r.alerts, r.outcome]).sort(), [
      [1, 'sent'],
      [3, 'sent'],
    ])
    const [failed, ...later] = receiver.requestsTo('/hook')
    const values = (r: typeof failed) =>
      (JSON.parse(r?.body ?? '{}') as { alerts: Array<{ indicator: { value: string } }> }).alerts
        .map((a) => a.indicator.value)
        .sort()
    const retry = later.find((r) => values(r).length === 3)
    const fresh = later.find((r) => values(r).length === 1)
    t.same(values(retry), ['a.evil.test', 'b.evil.test', 'c.evil.test'])
    t.equal(retry?.headers['idempotency-key'], failed?.headers['idempotency-key'], 'the same key for the same alerts')
    t.same(values(fresh), ['d.evil.test'])
    t.not(fresh?.headers['idempotency-key'], failed?.headers['idempotency-key'])
    const entries = (await s.outbox.list({ state: 'sent', limit: 10 })).entries
    t.equal(entries.filter((e) => e.attempts === 2).length, 3, 'each claim counts: the three went out twice')
  },
)

t.test('alert e-mails: defanged indicators, Auto-Submitted, and a malicious URL is never live', async (t) => {
  const smtp = await startSmtp(t)
  const s = await testService({
    rules: [{ id: 'mail', service: 'verdict', minVerdict: 'malicious', destinations: { email: 'soc@example.com' } }],
    outboxPath: join(tempDir(t), 'outbox.db'),
    smtpUrl: smtp.url,
    groupWaitMs: 0,
  })
  t.teardown(() => s.service.close())
  await s.service.observeRun([malicious('http://bad.example/login', 'URL')])
  t.equal((await s.service.deliverDue())[0]?.outcome, 'sent')
  const mail = smtp.messages[0]
  t.equal(mail?.headers.get('auto-submitted'), 'auto-generated', 'RFC 3834: no auto-reply answers it')
  t.equal(mail?.headers.get('x-auto-response-suppress'), 'All')
  t.match(mail?.subject, 'hxxp://bad[.]example/login')
  t.match(mail?.text, 'hxxp://bad[.]example/login')
  t.notMatch(smtp.raw[0], 'http://bad.example', 'nowhere in the mail is the live URL')
})

t.test('SMTP credentials never go in clear: without STARTTLS the login is not sent', async (t) => {
  const smtp = await startSmtp(t, { user: 'mailer', pass: 'smtp-pass-0123456789' })
  const rules = [
    { id: 'mail', service: 'verdict', minVerdict: 'malicious', destinations: { email: 'soc@example.com' } },
  ]
  const s = await testService({ rules, outboxPath: join(tempDir(t), 'outbox.db'), smtpUrl: smtp.url, groupWaitMs: 0 })
  t.teardown(() => s.service.close())
  await s.service.observeRun([malicious('x.evil.test')])
  const [report] = await s.service.deliverDue()
  t.equal(report?.outcome, 'retry', 'kept, and retried: a stripped STARTTLS may be an attack that passes')
  t.match(report?.detail, 'STARTTLS')
  t.match(report?.detail, 'SMTP_ALLOW_PLAINTEXT')
  t.same(smtp.logins, [], 'the server never saw a login')
  t.equal(smtp.messages.length, 0)

  const relay = await testService({
    rules,
    outboxPath: join(tempDir(t), 'outbox.db'),
    smtpUrl: smtp.url,
    groupWaitMs: 0,
    env: { SMTP_ALLOW_PLAINTEXT: 'on' },
  })
  t.teardown(() => relay.service.close())
  await relay.service.observeRun([malicious('x.evil.test')])
  t.equal((await relay.service.deliverDue())[0]?.outcome, 'sent', 'SMTP_ALLOW_PLAINTEXT=on: a loopback relay')
  t.same(smtp.logins, [{ user: 'mailer', secure: false }])
})
