/** ALERTS_CONFIG: every problem named by rule and field, all at once; destinations checked against the settings. */
import t from 'tap'
import { AlertConfigError, parseAlertRules, ruleDestinations } from '../../src/alerts/rules.js'

const ALL = { slackBotToken: true, slackWebhookUrl: true, smtp: true }

const problemsOf = (json: unknown, available = ALL): readonly string[] => {
  try {
    parseAlertRules(JSON.stringify(json), 'ALERTS_CONFIG (test.json)', available)
    return []
  } catch (err) {
    if (!(err instanceof AlertConfigError)) throw err
    return err.problems
  }
}

t.test('a good file: every service, every destination kind', async (t) => {
  const rules = parseAlertRules(
    JSON.stringify({
      rules: [
        {
          id: 'wl',
          service: 'watchlist',
          tql: 'rating GEQ 3',
          destinations: { slackChannels: ['#soc', 'C0123'], slackUsers: ['Analyst@Example.com'] },
        },
        {
          id: 'verdicts',
          service: 'verdict',
          minVerdict: 'suspicious',
          destinations: { email: ['soc@example.com'], webhooks: ['https://hooks.example.com/x'] },
        },
        { id: 'feeds', service: 'feed', minRating: 4, feeds: ['urlhaus'], destinations: { slackWebhook: true } },
        { id: 'off', service: 'feed', minRating: 1, enabled: false, destinations: { email: ['a@example.com'] } },
      ],
    }),
    'x',
    ALL,
  )
  t.same(
    rules.map((r) => r.id),
    ['wl', 'verdicts', 'feeds'],
    'a disabled rule is checked but not run',
  )
  t.same(ruleDestinations(rules[0]!), [
    { kind: 'slackChannel', target: '#soc' },
    { kind: 'slackChannel', target: 'C0123' },
    { kind: 'slackUser', target: 'analyst@example.com' },
  ])
})

t.test('every problem at once, each naming the rule and the field', async (t) => {
  const problems = problemsOf({
    rules: [
      { id: 'a', service: 'verdict', minVerdict: 'bad', destinations: { email: ['soc@example.com'] } },
      { id: 'b', service: 'feed', minRating: 9, destinations: { email: ['soc@example.com'] } },
      { id: 'c', service: 'watchlist', destinations: { email: ['soc@example.com'] } },
      { id: 'd', service: 'alarm', destinations: {} },
      { service: 'verdict', minVerdict: 'malicious', destinations: { email: ['soc@example.com'] } },
      {
        id: 'e',
        service: 'verdict',
        minVerdict: 'malicious',
        destinations: { email: ['not-an-address'], webhooks: ['ftp://x'] },
      },
      { id: 'f', service: 'verdict', minVerdict: 'malicious', destinations: {} },
      { id: 'e', service: 'verdict', minVerdict: 'malicious', destinations: { email: ['soc@example.com'] } },
      {
        id: 'g',
        service: 'verdict',
        minVerdict: 'malicious',
        destination: {},
        destinations: { email: ['soc@example.com'] },
      },
    ],
  })
  const text = problems.join('\n')
  t.match(text, "rule 'a': minVerdict: must be one of suspicious, malicious")
  t.match(text, "rule 'b': minRating: must be <= 5")
  t.match(text, "rule 'c': tql: is required")
  t.match(text, "rule 'd': service: must be one of watchlist, verdict, feed")
  t.match(text, 'rules[4]: id: is required')
  t.match(text, "rule 'e': destinations.email: 'not-an-address' is not an e-mail address")
  t.match(text, "rule 'e': destinations.webhooks: not an http(s) URL")
  t.match(text, "rule 'f': destinations: names no destination")
  t.match(text, "rule 'e': id: used by another rule too")
  t.match(text, "rule 'g': destination: is not a field of this rule")
  t.equal(problems.filter((p) => p.startsWith("rule 'a'")).length, 1, 'one line per field')
})

t.test('a destination kind without its settings is refused, naming the setting', async (t) => {
  const json = {
    rules: [
      {
        id: 'x',
        service: 'verdict',
        minVerdict: 'malicious',
        destinations: { slackChannels: ['#a'], email: ['a@example.com'], slackWebhook: true },
      },
    ],
  }
  const text = problemsOf(json, { slackBotToken: false, slackWebhookUrl: false, smtp: false }).join('\n')
  t.match(text, 'SLACK_BOT_TOKEN')
  t.match(text, 'SLACK_WEBHOOK_URL')
  t.match(text, 'SMTP_URL and ALERT_EMAIL_FROM')
})

t.test('not JSON, or not {"rules": [...]}', async (t) => {
  t.throws(() => parseAlertRules('{', 'x', ALL), /not valid JSON/)
  t.throws(() => parseAlertRules('[]', 'x', ALL), /expected an object/)
  t.match(problemsOf({ rules: [], extra: 1 }).join(), "unknown top-level field 'extra'")
})

t.test('a webhook URL in a problem is never repeated (it may be the credential)', async (t) => {
  const text = problemsOf({
    rules: [
      {
        id: 'x',
        service: 'verdict',
        minVerdict: 'malicious',
        destinations: { webhooks: ['not a url with secret-token-123'] },
      },
    ],
  }).join()
  t.notMatch(text, 'secret-token-123')
})
