/**
 * FEED_SCHEDULE: the feed job on a cron inside the service, on the service's own context (its calls in /metrics),
 * its last runs in /health; a bad expression named.
 */
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startApp } from '../helpers/app.js'
import { ACCESS_ID, SECRET_KEY, startSandbox } from '../platform/harness.js'

interface Health {
  feeds?: { schedule: string; nextRun: string; lastRuns: { feed: string; status: string; added: number }[] }
}

t.test(
  "runs the feeds on its schedule on the service's context: /health shows each feed's last run, /metrics its calls",
  async (t) => {
    const sandbox = await startSandbox(t)
    const stateDir = await mkdtemp(join(tmpdir(), 'feed-schedule-'))
    t.teardown(() => rm(stateDir, { recursive: true, force: true }))
    const env = {
      TC_API_PATH: sandbox.url,
      TC_API_ACCESS_ID: ACCESS_ID,
      TC_API_SECRET_KEY: SECRET_KEY,
      TC_OWNER: 'Acme Org',
      FEED_STATE_DIR: stateDir,
    }
    // Every second (croner's six-field form), so the test sees a run without waiting minutes.
    const { app } = await startApp(t, env, { feeds: { schedule: '* * * * * *', env } })
    let health: Health = {}
    for (let i = 0; i < 100; i++) {
      health = (await app.inject({ method: 'GET', url: '/health' })).json<Health>()
      if ((health.feeds?.lastRuns.length ?? 0) > 0) break
      await sleep(50)
    }
    t.match(health.feeds, { schedule: '* * * * * *', lastRuns: [{ feed: 'file', status: 'ok', added: 6 }] })
    t.match(health.feeds?.nextRun, /^\d{4}-\d{2}-\d{2}T/)
    t.equal(sandbox.app.sandbox.store.allIndicators().length, 6, 'the sample landed')
    const metrics = (await app.inject({ url: '/metrics' })).body
    t.match(
      metrics,
      /enrich_platform_requests_total \d+/,
      "the scheduled run's Batch API calls count in the service's own /metrics",
    )
  },
)

t.test('a FEED_SCHEDULE that is not a cron expression is named, and the service does not start', async (t) => {
  await t.rejects(
    startApp(t, {}, { feeds: { schedule: 'every hour', env: {} } }),
    /^FEED_SCHEDULE: 'every hour' is not a cron expression/,
  )
})
