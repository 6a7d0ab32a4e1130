/** FEED_SCHEDULE: the feed job on a cron beside the service, its last runs in /health; a bad expression named. */
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startFeedSchedule } from '../../src/feed-job/schedule.js'
import { startApp } from '../helpers/app.js'
import { ACCESS_ID, SECRET_KEY, startSandbox } from '../platform/harness.js'

const quiet = { info: () => undefined, warn: () => undefined }

t.test('runs the feeds on its schedule and /health shows each feed\'s last run', async (t) => {
  const sandbox = await startSandbox(t)
  const stateDir = await mkdtemp(join(tmpdir(), 'feed-schedule-'))
  t.teardown(() => rm(stateDir, { recursive: true, force: true }))
  const env = { TC_API_PATH: sandbox.url, TC_API_ACCESS_ID: ACCESS_ID, TC_API_SECRET_KEY: SECRET_KEY, TC_OWNER: 'Acme Org', FEED_STATE_DIR: stateDir }
  // Every second (croner's six-field form), so the test sees a run without waiting minutes.
  const schedule = startFeedSchedule({ schedule: '* * * * * *', env, log: quiet })
  t.teardown(() => schedule.stop())
  for (let i = 0; i < 100 && schedule.status().lastRuns.length === 0; i++) await sleep(50)
  t.match(schedule.status(), { schedule: '* * * * * *', lastRuns: [{ feed: 'file', status: 'ok', added: 6 }] })
  t.equal(sandbox.app.sandbox.store.allIndicators().length, 6, 'the sample landed')
  const { app } = await startApp(t, {}, { feedSchedule: schedule })
  const health = (await app.inject({ method: 'GET', url: '/health' })).json<{ feeds: { lastRuns: { feed: string }[]; nextRun: string } }>()
  t.equal(health.feeds.lastRuns[0]?.feed, 'file')
  t.match(health.feeds.nextRun, /^\d{4}-\d{2}-\d{2}T/)
})

t.test('a FEED_SCHEDULE that is not a cron expression is named', async (t) => {
  t.throws(() => startFeedSchedule({ schedule: 'every hour', env: {}, log: quiet }), /^FEED_SCHEDULE: 'every hour' is not a cron expression/)
})
