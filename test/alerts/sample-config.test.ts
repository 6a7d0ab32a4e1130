/** The sample ALERTS_CONFIG the docs point to passes the same checks as start-up, the worker's included. */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import t from 'tap'
import { loadAlertsFile } from '../../src/alerts/config.js'
import { tempDir, testService } from './helpers.js'

t.test('data/alerts.sample.json passes the same check as start-up', async (t) => {
  const path = fileURLToPath(new URL('../../data/alerts.sample.json', import.meta.url))
  const { rules, savedQueries } = await loadAlertsFile(path, { retentionMs: 30 * 86_400_000 }, process.cwd())
  t.same(
    rules.map((r) => r.service),
    ['verdict', 'watchlist', 'feed'],
  )
  const json = JSON.parse(readFileSync(path, 'utf8')) as { rules: unknown[] }
  const s = await testService({
    rules: json.rules,
    savedQueries,
    outboxPath: join(tempDir(t), 'o.db'),
    slackUrl: 'http://127.0.0.1:9/api',
    slackWebhookUrl: 'http://127.0.0.1:9/hook',
    smtpUrl: 'smtp://127.0.0.1:2525',
  })
  t.teardown(() => s.service.close())
  t.ok(s.service.hearsVerdicts && s.service.hasPolling, 'every notifier connects, every destination is made')
})
