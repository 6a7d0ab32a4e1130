/**
 * Several replicas on one Redis, each with FEED_SCHEDULE every minute: at each tick the feed job runs on one of them,
 * not on each (src/state/schedule-lock.ts); a run that lost its lease to another writes nothing more (the fence).
 */
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LeaseLost, redisScheduleLock } from '../../src/state/schedule-lock.js'
import { SharedStore } from '../../src/state/store.js'
import { startApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { ACCESS_ID, SECRET_KEY, startSandbox } from '../platform/harness.js'

t.test('two replicas, one Redis, a one-minute FEED_SCHEDULE: each tick runs the feed once', async (t) => {
  const redis = await startRedis(t)
  const sandbox = await startSandbox(t)
  const stateDir = await mkdtemp(join(tmpdir(), 'feed-replicas-'))
  t.teardown(() => rm(stateDir, { recursive: true, force: true }))
  const env = {
    REDIS_URL: redis.url,
    TC_API_PATH: sandbox.url,
    TC_API_ACCESS_ID: ACCESS_ID,
    TC_API_SECRET_KEY: SECRET_KEY,
    TC_OWNER: 'Acme Org',
    FEED_STATE_DIR: stateDir,
  }
  const replicas = await Promise.all([1, 2].map(() => startApp(t, env, { feeds: { schedule: '* * * * *', env } })))
  const schedules = replicas.map(({ app }) => {
    if (app.feedSchedule === undefined) throw new Error('no feed schedule')
    return app.feedSchedule
  })
  // Both replicas' crons fire for the same ticks (as they would, a minute apart); the ticks are handed in here so the
  // test need not wait for the clock.
  const ticks = ['2026-12-04T12:00:00.000Z', '2026-12-04T12:01:00.000Z', '2026-12-04T12:02:00.000Z'].map(
    (x) => new Date(x),
  )
  for (const tick of ticks) {
    const ran = await Promise.all(schedules.map((s) => s.runTick(tick)))
    t.equal(ran.filter(Boolean).length, 1, `${tick.toISOString()}: one replica ran it`)
    t.same(await Promise.all(schedules.map((s) => s.runTick(tick))), [false, false], 'and nobody runs it again')
  }
  const runs = schedules.flatMap((s) => s.status().history['file'] ?? [])
  t.same(
    runs.map((r) => r.tick).sort(),
    ticks.map((x) => x.toISOString()),
    'the file feed ran once per tick, over both replicas',
  )
  t.equal(sandbox.app.sandbox.batches.length, 1, 'the first tick uploaded; the later ones found nothing new')
  t.equal(sandbox.app.sandbox.store.allIndicators().length, 6)
})

t.test('a run whose lease was lost (another replica took over) is refused before it commits', async (t) => {
  const redis = await startRedis(t)
  const store = new SharedStore({ url: redis.url, prefix: 'lock-test:' })
  t.teardown(() => store.close())
  await store.whenReady(5_000)
  const a = redisScheduleLock(store, { leaseMs: 60_000 })
  const b = redisScheduleLock(store, { leaseMs: 60_000 })
  const first = await a.acquire('feed-job', 'T1')
  if ('skipped' in first) throw new Error(first.skipped)
  t.match(await b.acquire('feed-job', 'T1'), { skipped: /taken by another replica/ })
  t.match(
    await b.acquire('feed-job', 'T2'),
    { skipped: /still runs an earlier tick/ },
    'a later tick waits for the run',
  )
  await first.assertHeld()
  // The holder stalls past its lease (a long pause): the lease is gone, and a later tick is taken elsewhere.
  await store.run('test', (r) => r.del(store.key('schedule', 'feed-job', 'running')))
  const second = await b.acquire('feed-job', 'T3')
  if ('skipped' in second) throw new Error(second.skipped)
  t.ok(second.fence > first.fence, 'the fence only grows')
  await t.rejects(first.assertHeld(), LeaseLost, 'the stale run may write nothing more')
  await second.assertHeld()
  await first.finish()
  await second.assertHeld()
  await second.finish()
  const third = await a.acquire('feed-job', 'T4')
  t.notOk('skipped' in third, 'free again once the run finished')
})
