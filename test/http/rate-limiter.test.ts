import t from 'tap'
import { RateLimiter, type Permit } from '../../src/http/rate-limiter.js'
import { SourceError } from '../../src/errors.js'
import { FakeClock } from '../helpers/fake-clock.js'

const settle = <T>(p: Promise<T>): Promise<T | SourceError> => p.catch((err: SourceError) => err)

t.test('no limit: permits are immediate', async (t) => {
  const l = new RateLimiter({ sourceId: 's' })
  const permits = await Promise.all(Array.from({ length: 50 }, () => l.acquire()))
  t.ok(permits.every((p) => p.waitedMs === 0))
  t.equal(l.queued, 0)
})

t.test('FIFO queue: a token comes back perMs after its call ended', async (t) => {
  const clock = new FakeClock()
  const l = new RateLimiter({ sourceId: 's', requests: 2, perMs: 150, maxWaitMs: 5000, clock })
  t.teardown(() => l.close())
  const granted: { i: number; at: number; p: Permit }[] = []
  for (let i = 0; i < 5; i += 1) void l.acquire().then((p) => granted.push({ i, at: clock.now(), p }))
  await clock.advance(0)
  t.same(granted.map((g) => [g.i, g.at]), [[0, 0], [1, 0]], 'the first two at once')
  t.equal(l.queued, 3, 'three calls wait')
  for (const g of granted) g.p.release()
  await clock.advance(149)
  t.equal(granted.length, 2, 'no token before the window has passed since the calls ended')
  await clock.advance(1)
  t.same(granted.map((g) => [g.i, g.at]), [[0, 0], [1, 0], [2, 150], [3, 150]], 'the next two one window after release, in call order')
  t.equal(granted[2]?.p.waitedMs, 150, 'waitedMs reports the queue time')
  for (const g of granted.slice(2)) g.p.release()
  await clock.advance(150)
  t.same(granted.map((g) => g.i), [0, 1, 2, 3, 4])
  t.equal(granted[4]?.at, 300, 'the fifth after two windows')
})

t.test('a call that would wait over maxWaitMs is refused at once, as a skip', async (t) => {
  const clock = new FakeClock()
  const l = new RateLimiter({ sourceId: 'vt', requests: 1, perMs: 60_000, maxWaitMs: 1000, clock })
  t.teardown(() => l.close())
  ;(await l.acquire()).release()
  const err = await settle(l.acquire())
  t.equal(clock.now(), 0, 'refused without any time passing')
  t.type(err, SourceError)
  if (!(err instanceof SourceError)) return
  t.equal(err.kind, 'rate_limited')
  t.equal(err.skipped, true)
  t.match(err.message, /would wait \d+ ms, over the limit of 1000 ms/)
})

t.test('a queued call still gives up at maxWaitMs when calls in flight run long', async (t) => {
  const clock = new FakeClock()
  const l = new RateLimiter({ sourceId: 's', requests: 1, perMs: 10, maxWaitMs: 100, clock })
  t.teardown(() => l.close())
  const held = await l.acquire() // never released within the test
  let outcome: Permit | SourceError | undefined
  void settle(l.acquire()).then((r) => (outcome = r))
  await clock.advance(100)
  t.equal(outcome, undefined, 'still waiting at maxWaitMs')
  await clock.advance(1)
  t.equal((outcome as SourceError).kind, 'rate_limited', 'gave up just past maxWaitMs')
  t.match((outcome as SourceError).message, /waited 101 ms, over the limit of 100 ms/)
  held.release()
})

t.test('abort while queued -> cancelled, and the queue moves on', async (t) => {
  const clock = new FakeClock()
  const l = new RateLimiter({ sourceId: 's', requests: 1, perMs: 100, maxWaitMs: 5000, clock })
  t.teardown(() => l.close())
  const first = await l.acquire()
  const ac = new AbortController()
  const aborted = settle(l.acquire(ac.signal))
  const next = l.acquire()
  ac.abort(new Error('run deadline passed'))
  const err = await aborted
  t.equal((err as SourceError).kind, 'cancelled')
  t.match((err as SourceError).message, /run deadline passed/)
  t.equal(l.queued, 1)
  first.release()
  await clock.advance(100)
  const p = await next
  t.equal(p.waitedMs, 100, 'granted one window after the release')
  const already = await settle(l.acquire(AbortSignal.abort()))
  t.equal((already as SourceError).kind, 'cancelled')
})

t.test('pauseFor holds every call back; a pause longer than maxWait refuses', async (t) => {
  const clock = new FakeClock()
  const l = new RateLimiter({ sourceId: 's', maxWaitMs: 500, clock })
  t.teardown(() => l.close())
  l.pauseFor(200)
  const pending = l.acquire()
  await clock.advance(200)
  const p = await pending
  t.equal(p.waitedMs, 200, 'held for the whole pause')
  l.pauseFor(2000)
  t.equal(l.estimateWaitMs(), 2000)
  const err = await settle(l.acquire())
  t.equal((err as SourceError).kind, 'rate_limited')
  t.match((err as SourceError).message, /vendor pause/)
})

t.test('close fails queued calls', async (t) => {
  const l = new RateLimiter({ sourceId: 's', requests: 1, perMs: 10_000 })
  await l.acquire()
  const waiting = settle(l.acquire())
  l.close()
  t.equal(((await waiting) as SourceError).kind, 'cancelled')
  t.equal(((await settle(l.acquire())) as SourceError).kind, 'cancelled')
})

t.test('bad limits are refused', async (t) => {
  t.throws(() => new RateLimiter({ sourceId: 's', requests: 0, perMs: 10 }), /at least 1/)
  t.throws(() => new RateLimiter({ sourceId: 's', requests: 3, perMs: 0 }), /at least 1/)
})
