/** The shared-state pieces against a real redis-server on 127.0.0.1: quotas, locks, the breaker bus, the fallback. */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { SharedStore } from '../../src/state/store.js'
import { RedisQuota } from '../../src/state/redis-quota.js'
import { FallbackQuota, shareOf } from '../../src/state/fallback-quota.js'
import { MemoryQuota } from '../../src/state/quota.js'
import { SharedLocks } from '../../src/state/locks.js'
import { sharedBreakerBus } from '../../src/state/breaker-bus.js'
import { startRedis } from '../helpers/redis-server.js'
import { FakeClock } from '../helpers/fake-clock.js'

const MINUTE = { requests: 4, perMs: 60_000 }

const storeOn = (t: { teardown(fn: () => unknown): void }, url: string, prefix = 'tce:'): SharedStore => {
  const store = new SharedStore({ url, prefix })
  t.teardown(() => store.close())
  return store
}

const untilReady = async (store: SharedStore): Promise<void> => {
  for (let i = 0; i < 200 && !store.ready; i++) await sleep(25)
  if (!store.ready) throw new Error('redis did not become ready')
}

t.test('two replicas share one count: 4 a minute between them, the 5th told how long to wait', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = [storeOn(t, redis.url), storeOn(t, redis.url)]
  await Promise.all([untilReady(a!), untilReady(b!)])
  const qa = new RedisQuota(a!)
  const qb = new RedisQuota(b!)
  const answers = await Promise.all([qa, qb, qa, qb, qa, qb].map((q) => q.take('vt:print1', [MINUTE], 15_000)))
  t.equal(answers.filter((x) => x.granted).length, 4, 'four granted across both')
  const refused = answers.filter((x) => !x.granted)
  t.equal(refused.length, 2)
  for (const r of refused)
    if (!r.granted)
      t.ok(r.waitMs > 50_000 && r.waitMs <= 75_001, `wait ${r.waitMs} ms: until the first call leaves the window`)
  t.ok((await qa.take('vt:print2', [MINUTE], 15_000)).granted, 'another key fingerprint has its own count')
})

t.test('every window counts; settling moves a call to its real end; a pause holds every replica', async (t) => {
  const redis = await startRedis(t)
  const store = storeOn(t, redis.url)
  await untilReady(store)
  const q = new RedisQuota(store)
  const windows = [
    { requests: 10, perMs: 1_000 },
    { requests: 2, perMs: 86_400_000 },
  ]
  const first = await q.take('k', windows, 15_000)
  t.ok(first.granted)
  t.ok((await q.take('k', windows, 15_000)).granted)
  const third = await q.take('k', windows, 15_000)
  t.notOk(third.granted, 'the daily window is spent though the second has room')
  if (first.granted) await q.settle('k', windows, first.ticket)
  // Counted until its latest possible end before settling, until now after: the day's wait shrinks by ~15 s.
  const after = await q.take('k', windows, 15_000)
  t.ok(
    !after.granted && !third.granted && after.waitMs < third.waitMs - 10_000,
    'settled: the wait is counted from the real end',
  )

  const otherStore = storeOn(t, redis.url)
  await untilReady(otherStore)
  const other = new RedisQuota(otherStore)
  await q.pause('paused', 5_000)
  const held = await other.take('paused', [MINUTE], 1000)
  t.ok(!held.granted && held.waitMs > 4_000, 'the pause one replica set holds the other')
  t.same(await store.client.keys('*'), await store.client.keys('tce:*'), 'every key under the prefix')
})

t.test(
  'Redis gone: each replica keeps to its share, starting after the running window; Redis back: shared again',
  async (t) => {
    const redis = await startRedis(t)
    const clock = new FakeClock()
    const store = storeOn(t, redis.url)
    await untilReady(store)
    let fellBack = 0
    const quota = new FallbackQuota(new RedisQuota(store), 3, { clock, onFallback: () => fellBack++ })
    t.ok((await quota.take('vt:p', [MINUTE], 1000)).granted, 'shared while Redis answers')
    await redis.stop()
    const lost = await quota.take('vt:p', [MINUTE], 1000)
    t.notOk(lost.granted, 'on losing Redis, the running window counts as spent')
    t.ok(fellBack > 0)
    if (!lost.granted) t.equal(lost.waitMs, 60_001)
    await clock.advance(60_001)
    t.ok((await quota.take('vt:p', [MINUTE], 1000)).granted, "after the window: this replica's share (4/3 -> 1)")
    t.notOk((await quota.take('vt:p', [MINUTE], 1000)).granted, 'and no more than its share')
    await redis.restart()
    await untilReady(store)
    t.ok((await quota.take('vt:p', [MINUTE], 1000)).granted, 'Redis back: its (fresh) count holds again')
    t.same(
      shareOf({ requests: 1, perMs: 1000 }, 3),
      { requests: 1, perMs: 3000 },
      'under one call each: a longer window',
    )
    t.same(shareOf({ requests: 500, perMs: 86_400_000 }, 3), { requests: 166, perMs: 86_400_000 })
  },
)

t.test('the in-process quota counts the same way (every window, settle, pause) with an injected clock', async (t) => {
  const clock = new FakeClock()
  const q = new MemoryQuota(clock)
  const w = [{ requests: 2, perMs: 1000 }]
  const a = await q.take('k', w, 500)
  t.ok(a.granted)
  t.ok((await q.take('k', w, 500)).granted)
  const refused = await q.take('k', w, 500)
  t.same(refused, { granted: false, waitMs: 1501 }, 'until the first call, counted to its latest end, leaves')
  if (a.granted) await q.settle('k', w, a.ticket)
  t.same(await q.take('k', w, 500), { granted: false, waitMs: 1001 }, 'settled at its real end')
  await clock.advance(1001)
  t.ok((await q.take('k', w, 500)).granted)
  await q.pause('k', 300)
  t.same(await q.take('k', w, 500), { granted: false, waitMs: 300, paused: true })
})

t.test(
  'the in-process quota with a large window (a paid plan): exact at the limit, calls settled out of order',
  async (t) => {
    const clock = new FakeClock()
    const q = new MemoryQuota(clock)
    const w = [{ requests: 1000, perMs: 60_000 }]
    const tickets: string[] = []
    for (let i = 0; i < 1000; i++) {
      const answer = await q.take('paid', w, 10_000)
      if (answer.granted) tickets.push(answer.ticket)
      await clock.advance(10)
    }
    t.equal(tickets.length, 1000, 'all 1,000 granted')
    // Now 10 s in. Settle the second call (at 10 s), not the first (its end stays 0 + 10 s: the same moment).
    await q.settle('paid', w, tickets[1] as string)
    t.same(
      await q.take('paid', w, 10_000),
      { granted: false, waitMs: 60_001 },
      'full: room when the oldest end (10 s) leaves, 60 s on',
    )
    await clock.advance(60_001)
    t.ok((await q.take('paid', w, 10_000)).granted, 'the two ended at 10 s have left the window: room again')
    t.ok((await q.take('paid', w, 10_000)).granted)
    t.notOk((await q.take('paid', w, 10_000)).granted, 'and only for those two')
  },
)

t.test('a lock by name: two replicas racing take turns', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = [storeOn(t, redis.url), storeOn(t, redis.url)]
  await Promise.all([untilReady(a!), untilReady(b!)])
  const order: string[] = []
  const work = (who: string) => async (): Promise<string> => {
    order.push(`${who} in`)
    await sleep(100)
    order.push(`${who} out`)
    return who
  }
  const signal = AbortSignal.timeout(5000)
  const results = await Promise.all([
    new SharedLocks(a!).withLock('note:x', signal, work('a')),
    new SharedLocks(b!).withLock('note:x', signal, work('b')),
  ])
  t.same(results, ['a', 'b'])
  t.ok(
    order[0]?.endsWith('in') && order[1]?.endsWith('out') && order[0].slice(0, 1) === order[1].slice(0, 1),
    `one at a time: ${order.join(', ')}`,
  )
  t.equal(await a!.client.exists('tce:lock:note%3Ax'), 0, 'released')
})

t.test('a circuit opened on one replica is heard by the others, not by itself', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = [storeOn(t, redis.url), storeOn(t, redis.url)]
  await Promise.all([untilReady(a!), untilReady(b!)])
  const heardA: number[] = []
  const heardB: number[] = []
  const busA = sharedBreakerBus(a!)
  const busB = sharedBreakerBus(b!)
  busA.listen('virustotal', (ms) => heardA.push(ms))
  busB.listen('virustotal', (ms) => heardB.push(ms))
  await sleep(200) // the subscriptions are in place
  busA.announce('virustotal', 30_000)
  for (let i = 0; i < 100 && heardB.length === 0; i++) await sleep(20)
  t.same(heardB, [30_000])
  t.same(heardA, [], 'the announcer does not hold itself')
})

t.test('after Redis restarts the circuit messages are heard again (the store resubscribes by itself)', async (t) => {
  const redis = await startRedis(t)
  const [a, b] = [storeOn(t, redis.url), storeOn(t, redis.url)]
  await Promise.all([untilReady(a!), untilReady(b!)])
  const heard: number[] = []
  sharedBreakerBus(b!).listen('virustotal', (ms) => heard.push(ms))
  const busA = sharedBreakerBus(a!)
  await sleep(200)
  await redis.stop()
  await redis.restart()
  await Promise.all([untilReady(a!), untilReady(b!)])
  // The subscriber reconnects on its own schedule: announce until it hears (each announce is one publish).
  for (let i = 0; i < 100 && heard.length === 0; i++) {
    busA.announce('virustotal', 20_000)
    await sleep(50)
  }
  t.ok(heard.length > 0 && heard.every((ms) => ms === 20_000), 'the listener hears again after the restart')
})
