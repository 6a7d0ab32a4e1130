/**
 * Slack's pace (about one message a second per channel), a reply slower than the timeout (retried, not lost), and
 * the settings' secrets: a bad token or SMTP URL is named, never repeated.
 */
import { join } from 'node:path'
import t from 'tap'
import { loadAlertSettings } from '../../src/config/alert-settings.js'
import { ConfigError } from '../../src/config/env.js'
import { startFakeSlack, tempDir, testService } from './helpers.js'

const rule = {
  id: 'soc',
  service: 'verdict',
  minVerdict: 'malicious',
  destinations: { slackChannels: ['#soc'] },
}
const event = (value: string) => ({
  indicator: { type: 'Host', value },
  verdict: 'malicious',
  score: 90,
  rating: 4,
  confidence: 80,
  tags: [],
  because: [],
})

t.test('one message a second per channel: a second message within the second waits, then goes', async (t) => {
  const slack = await startFakeSlack(t)
  const s = await testService({
    rules: [rule],
    outboxPath: join(tempDir(t), 'outbox.db'),
    slackUrl: slack.url,
    groupWaitMs: 0,
  })
  t.teardown(() => s.service.close())
  await s.service.observeRun([event('a.evil.test')])
  t.same(
    (await s.service.deliverDue()).map((r) => r.outcome),
    ['sent'],
  )
  await s.service.observeRun([event('b.evil.test')])
  await s.advance(400)
  const held = await s.service.deliverDue()
  t.same(
    held.map((r) => r.outcome),
    ['waiting'],
  )
  t.match(held[0]?.detail, /pacing: \d+ ms/)
  t.equal(slack.posts().length, 1)
  t.equal((await s.outbox.list({ state: 'pending', limit: 5 })).counts.pending, 1, 'still pending, not an attempt')
  await s.advance(600)
  t.same(
    (await s.service.deliverDue()).map((r) => r.outcome),
    ['sent'],
  )
  t.equal(slack.accepted().length, 2)
})

t.test('a Slack reply slower than the timeout is a retry, and the message goes on the next attempt', async (t) => {
  const slack = await startFakeSlack(t)
  slack.answerPosts({ delayMs: 1_500, json: { ok: true, channel: '#soc', ts: '1.1' } }, 'ok')
  const s = await testService({
    rules: [rule],
    outboxPath: join(tempDir(t), 'outbox.db'),
    slackUrl: slack.url,
    groupWaitMs: 0,
    timeouts: { connectMs: 200, responseMs: 300, totalMs: 400 },
  })
  t.teardown(() => s.service.close())
  await s.service.observeRun([event('a.evil.test')])
  const [slow] = await s.service.deliverDue()
  t.equal(slow?.outcome, 'retry')
  t.match(slow?.detail, /no answer within 300 ms/)
  await s.advance(30_000)
  t.same(
    (await s.service.deliverDue()).map((r) => r.outcome),
    ['sent'],
  )
  t.equal((await s.outbox.list({ limit: 1 })).entries[0]?.attempts, 2)
})

t.test('alert settings: every bad variable named at once, a secret never repeated', async (t) => {
  try {
    loadAlertSettings({
      SLACK_BOT_TOKEN: 'not-a-token-secretvalue',
      SMTP_URL: 'http://user:pw-secret@x',
      ALERTS_GROUP_WAIT: 'soon',
      SLACK_WEBHOOK_URL: 'hooks.slack.com/services/secretpath',
    })
    t.fail('should throw')
  } catch (err) {
    t.ok(err instanceof ConfigError)
    const text = (err as Error).message
    for (const name of ['SLACK_BOT_TOKEN', 'SMTP_URL', 'ALERTS_GROUP_WAIT', 'SLACK_WEBHOOK_URL']) t.match(text, name)
    for (const secret of ['secretvalue', 'pw-secret', 'secretpath']) t.notMatch(text, secret)
  }
  t.throws(() => loadAlertSettings({ SMTP_URL: 'smtp://127.0.0.1:25' }), /SMTP_URL and ALERT_EMAIL_FROM: set both/)
  const ok = loadAlertSettings({ ALERTS_GROUP_WAIT: '2m', ALERTS_MAX_AGE: '6h' })
  t.equal(ok.groupWaitMs, 120_000)
  t.equal(ok.maxAgeMs, 6 * 3_600_000)
  t.equal(loadAlertSettings({}).groupWaitMs, 30_000)
})
