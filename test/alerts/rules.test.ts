/**
 * ALERTS_CONFIG: every problem named by rule and field, all at once; destinations checked against their notifier's
 * settings schema; what a notifier or service needs of the environment checked when the worker opens.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadAlertsFile } from '../../src/alerts/config.js'
import { AlertConfigError } from '../../src/alerts/rules.js'
import { tempDir, testService } from './helpers.js'

const load = async (t: Parameters<typeof tempDir>[0], json: unknown, text?: string) => {
  const dir = tempDir(t)
  const path = join(dir, 'alerts.json')
  writeFileSync(path, text ?? JSON.stringify(json))
  return loadAlertsFile(path, { retentionMs: 30 * 86_400_000 }, dir)
}

const problemsOf = async (t: Parameters<typeof tempDir>[0], json: unknown): Promise<readonly string[]> => {
  try {
    await load(t, json)
    return []
  } catch (err) {
    if (!(err instanceof AlertConfigError)) throw err
    return err.problems
  }
}

t.test('a good file: every service, every destination kind, a list or one', async (t) => {
  const { rules } = await load(t, {
    savedQueries: { 'high rated': 'rating GEQ 4' },
    rules: [
      {
        id: 'wl',
        service: 'watchlist',
        tql: 'rating GEQ 3',
        destinations: { slackChannels: ['#soc', 'C0123'], slackUsers: ['Analyst@Example.com', 'U0123ABCD'] },
      },
      { id: 'saved', service: 'watchlist', savedQuery: 'high rated', destinations: { webhooks: 'https://h.test/x' } },
      {
        id: 'verdicts',
        service: 'verdict',
        minVerdict: 'suspicious',
        repeatInterval: '4h',
        formatters: { webhooks: 'text' },
        destinations: { email: 'soc@example.com', webhooks: ['https://hooks.example.com/x'] },
      },
      { id: 'feeds', service: 'feed', minRating: 4, feeds: ['urlhaus'], destinations: { slackWebhook: true } },
      { id: 'off', service: 'feed', minRating: 1, enabled: false, destinations: { email: 'a@example.com' } },
    ],
  })
  t.same(
    rules.map((r) => r.id),
    ['wl', 'saved', 'verdicts', 'feeds'],
    'a disabled rule is checked but not run',
  )
  t.same(
    rules[0]?.destinations.map((d) => [d.kind, d.target]),
    [
      ['slackChannels', '#soc'],
      ['slackChannels', 'C0123'],
      ['slackUsers', 'analyst@example.com'],
      ['slackUsers', 'U0123ABCD'],
    ],
  )
  t.equal(rules[2]?.repeatIntervalMs, 4 * 3_600_000)
  t.same(rules[2]?.formatters, { webhooks: 'text' })
})

t.test('every problem at once, each naming the rule and the field', async (t) => {
  const problems = await problemsOf(t, {
    rules: [
      { id: 'a', service: 'verdict', minVerdict: 'bad', destinations: { email: 'soc@example.com' } },
      { id: 'b', service: 'feed', minRating: 9, destinations: { email: 'soc@example.com' } },
      { id: 'd', service: 'alarm', destinations: {} },
      { service: 'verdict', minVerdict: 'malicious', destinations: { email: 'soc@example.com' } },
      { id: 'e', service: 'verdict', minVerdict: 'malicious', destinations: { webhooks: ['ftp://x'], teams: 'x' } },
      { id: 'f', service: 'verdict', minVerdict: 'malicious', destinations: {} },
      { id: 'e', service: 'verdict', minVerdict: 'malicious', destinations: { email: 'soc@example.com' } },
      { id: 'g', service: 'verdict', minVerdict: 'malicious', destination: {}, destinations: { email: 'a@b.test' } },
      {
        id: 'h',
        service: 'verdict',
        minVerdict: 'malicious',
        repeatInterval: '30s',
        formatters: { slackChannels: 'nope' },
        destinations: { email: ['a@b.test', 'A@B.test'] },
      },
      {
        id: 'i',
        service: 'verdict',
        minVerdict: 'malicious',
        repeatInterval: '60d',
        destinations: { email: 'a@b.test' },
      },
    ],
  })
  const text = problems.join('\n')
  t.match(text, "rule 'a': minVerdict: must be one of suspicious, malicious")
  t.match(text, "rule 'b': minRating: must be <= 5")
  t.match(text, "rule 'd': service: must be one of verdict, watchlist, feed")
  t.match(text, 'rules[3]: id: is required')
  t.match(text, "rule 'e': destinations.webhooks[0]: must match pattern")
  t.match(
    text,
    "rule 'e': destinations.teams: not a notifier kind (known: slackChannels, slackUsers, slackWebhook, email, webhooks)",
  )
  t.match(text, "rule 'f': destinations: names no destination")
  t.match(text, "rule 'e': id: used by another rule too")
  t.match(text, "rule 'g': destination: is not a field of this rule")
  t.match(text, "rule 'h': repeatInterval: at least 1m")
  t.match(text, "rule 'h': formatters.slackChannels: this rule has no slackChannels destination")
  t.match(text, "rule 'h': formatters.slackChannels: 'nope' is not a formatter kind")
  t.match(text, "rule 'h': destinations.email[1]: named twice in this rule")
  t.match(text, "rule 'i': repeatInterval: longer than ALERTS_RETENTION")
  t.equal(problems.filter((p) => p.startsWith("rule 'a'")).length, 1, 'one line per field')
})

t.test('a watchlist names one of tql and savedQuery, and a saved query that exists', async (t) => {
  const rules = [
    { id: 'none', service: 'watchlist', destinations: { webhooks: 'https://h.test/x' } },
    { id: 'both', service: 'watchlist', tql: 'x', savedQuery: 'q', destinations: { webhooks: 'https://h.test/x' } },
    { id: 'gone', service: 'watchlist', savedQuery: 'missing', destinations: { webhooks: 'https://h.test/x' } },
  ]
  const err = await testService({
    rules,
    outboxPath: join(tempDir(t), 'o.db'),
    savedQueries: { q: 'rating GEQ 4' },
  }).catch((e: unknown) => e)
  t.ok(err instanceof AlertConfigError)
  const text = (err as AlertConfigError).problems.join('\n')
  t.match(text, "rule 'none': name one of tql and savedQuery")
  t.match(text, "rule 'both': name one of tql and savedQuery")
  t.match(text, `rule 'gone': savedQuery: 'missing' is not in "savedQueries" (known: q)`)
})

t.test(
  'what a destination needs of the environment, and each destination its notifier refuses, at start-up',
  async (t) => {
    const rules = [
      {
        id: 'x',
        service: 'verdict',
        minVerdict: 'malicious',
        destinations: { slackChannels: '#a', email: 'a@example.com', slackWebhook: true },
      },
      { id: 'y', service: 'verdict', minVerdict: 'malicious', destinations: { webhooks: 'https://h.test/a' } },
    ]
    const err = await testService({ rules, outboxPath: join(tempDir(t), 'o.db') }).catch((e: unknown) => e)
    const text = (err as AlertConfigError).problems.join('\n')
    t.match(text, "rule 'x': destinations.slackChannels: needs SLACK_BOT_TOKEN")
    t.match(text, "rule 'x': destinations.slackWebhook: needs SLACK_WEBHOOK_URL")
    t.match(text, "rule 'x': destinations.email: needs SMTP_URL and ALERT_EMAIL_FROM")
    t.notMatch(text, "rule 'y'", 'a rule whose destinations are ready is not named')
    const bad = await testService({
      rules: [
        {
          id: 'z',
          service: 'verdict',
          minVerdict: 'malicious',
          destinations: { email: 'not-an-address', slackUsers: 'nobody' },
        },
      ],
      outboxPath: join(tempDir(t), 'o.db'),
      smtpUrl: 'smtp://127.0.0.1:2525',
      slackUrl: 'http://127.0.0.1:9/api',
    }).catch((e: unknown) => e)
    const badText = (bad as AlertConfigError).problems.join('\n')
    t.match(badText, "rule 'z': destinations.email: 'not-an-address' is not an e-mail address")
    t.match(badText, "rule 'z': destinations.slackUsers: 'nobody' is neither a Slack member id nor an e-mail address")
  },
)

t.test('not JSON, or not {"rules": [...]}, or a field the file does not have', async (t) => {
  await t.rejects(load(t, undefined, '{'), /not valid JSON/)
  await t.rejects(load(t, []), /expected an object/)
  t.match((await problemsOf(t, { rules: [], extra: 1 })).join(), "unknown top-level field 'extra'")
  t.match((await problemsOf(t, { rules: [], plugins: [3] })).join(), 'plugins: a list')
  t.match((await problemsOf(t, { rules: [], savedQueries: { q: 4 } })).join(), 'savedQueries: an object')
})

t.test('a webhook URL in a problem is never repeated (it may be the credential)', async (t) => {
  const text = (
    await problemsOf(t, {
      rules: [
        {
          id: 'x',
          service: 'verdict',
          minVerdict: 'malicious',
          destinations: { webhooks: ['not a url with secret-token-123'] },
        },
      ],
    })
  ).join()
  t.match(text, 'destinations.webhooks[0]')
  t.notMatch(text, 'secret-token-123')
})
