/** The sample ALERTS_CONFIG the docs point to is a valid rules file. */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parseAlertRules } from '../../src/alerts/rules.js'

t.test('data/alerts.sample.json passes the same check as start-up', async (t) => {
  const text = readFileSync(new URL('../../data/alerts.sample.json', import.meta.url), 'utf8')
  const rules = parseAlertRules(text, 'data/alerts.sample.json', {
    slackBotToken: true,
    slackWebhookUrl: true,
    smtp: true,
  })
  t.same(
    rules.map((r) => r.service),
    ['verdict', 'watchlist', 'feed'],
  )
})
