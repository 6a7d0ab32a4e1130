/**
 * What the status page reads of a quota (usage): the calls each window holds now and the pause left, the same from
 * the in-process count and from Redis's, without changing either; the fallback answers with this replica's share.
 */
import t from 'tap'
import { SharedStore } from '../../src/state/store.js'
import { RedisQuota } from '../../src/state/redis-quota.js'
import { FallbackQuota } from '../../src/state/fallback-quota.js'
import { MemoryQuota, type Quota } from '../../src/state/quota.js'
import { startRedis } from '../helpers/redis-server.js'
import { FakeClock } from '../helpers/fake-clock.js'

const WINDOWS = [
  { requests: 4, perMs: 60_000 },
  { requests: 500, perMs: 86_400_000 },
]

const takeThree = async (q: Quota): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    const answer = await q.take('vt:print', WINDOWS, 1_000)
    if (answer.granted) await q.settle('vt:print', WINDOWS, answer.ticket)
  }
}

t.test('in process: used per window, the pause left, and reading changes nothing', async (t) => {
  const clock = new FakeClock()
  const q = new MemoryQuota(clock)
  t.same(await q.usage('vt:print', WINDOWS), {
    windows: [
      { requests: 4, perMs: 60_000, used: 0 },
      { requests: 500, perMs: 86_400_000, used: 0 },
    ],
    pausedMs: 0,
  })
  await takeThree(q)
  t.same(
    (await q.usage('vt:print', WINDOWS)).windows.map((w) => w.used),
    [3, 3],
  )
  t.same(
    (await q.usage('vt:print', WINDOWS)).windows.map((w) => w.used),
    [3, 3],
    'reading twice: the same',
  )
  t.ok((await q.take('vt:print', WINDOWS, 1_000)).granted, 'the 4th call still has its room')
  await clock.advance(61_000)
  t.same(
    (await q.usage('vt:print', WINDOWS)).windows.map((w) => w.used),
    [0, 4],
    'the minute left, the day stays',
  )
  await q.pause('vt:print', 30_000)
  await clock.advance(10_000)
  t.equal((await q.usage('vt:print', WINDOWS)).pausedMs, 20_000)
  t.equal((await q.usage('vt:other', WINDOWS)).pausedMs, 0, 'a pause is its key alone')
})

t.test('through Redis: the count every replica shares', async (t) => {
  const redis = await startRedis(t)
  const store = new SharedStore({ url: redis.url, prefix: 'usage:' })
  t.teardown(() => store.close())
  await store.whenReady(5_000)
  const [a, b] = [new RedisQuota(store), new RedisQuota(store)]
  await takeThree(a)
  await a.pause('vt:print', 30_000)
  const seen = await b.usage('vt:print', WINDOWS)
  t.same(
    seen.windows.map((w) => w.used),
    [3, 3],
    'another replica sees the calls this one made',
  )
  t.ok(seen.pausedMs > 29_000 && seen.pausedMs <= 30_000, `paused ${seen.pausedMs} ms`)
  t.same(
    (await b.usage('vt:nobody', WINDOWS)).windows.map((w) => w.used),
    [0, 0],
  )
})

t.test('the fallback: Redis while it answers, else this replica’s share counted here', async (t) => {
  const clock = new FakeClock()
  const failing: Quota = {
    take: () => Promise.reject(new Error('down')),
    settle: () => Promise.reject(new Error('down')),
    pause: () => Promise.reject(new Error('down')),
    usage: () => Promise.reject(new Error('down')),
  }
  const q = new FallbackQuota(failing, 2, { clock })
  const usage = await q.usage('vt:print', WINDOWS)
  t.same(
    usage.windows.map((w) => w.requests),
    [2, 250],
    'a replica of two counts half of each window while Redis is away',
  )
})
