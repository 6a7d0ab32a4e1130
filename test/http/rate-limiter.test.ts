import t from 'tap'
import { RateLimiter, type Permit } from '../../src/http/rate-limiter.js'
import { SourceError } from '../../src/errors.js'

const settle = <T>(p: Promise<T>): Promise<T | SourceError> => p.catch((err: SourceError) => err)

t.test('no limit: permits are immediate', async (t) => {
  const l = new RateLimiter({ sourceId: 's' })
  const permits = await Promise.all(Array.from({ length: 50 }, () => l.acquire()))
  t.ok(permits.every((p) => p.waitedMs === 0))
  t.equal(l.queued, 0)
})

t.test('FIFO queue: a token comes back perMs after its call ended', async (t) => {
  const l = new RateLimiter({ sourceId: 's', requests: 2, perMs: 150, maxWaitMs: 5000 })
  t.teardown(() => l.close())
  const order: number[] = []
  const started = performance.now()
  const grants = Array.from({ length: 5 }, (_, i) =>
    l.acquire().then((p) => {
      order.push(i)
      return { p, at: performance.now() - started }
    }),
  )
  await Promise.resolve()
  t.equal(l.queued, 3, 'three calls wait')
  const results: { p: Permit; at: number }[] = []
  for (const g of grants) {
    const r = await g
    results.push(r)
    r.p.release()
  }
  t.same(order, [0, 1, 2, 3, 4], 'granted in call order')
  t.ok((results[0]?.at ?? 99) < 50 && (results[1]?.at ?? 99) < 50, 'first two at once')
  t.ok((results[2]?.at ?? 0) >= 145, `third after a window (${results[2]?.at})`)
  t.ok((results[4]?.at ?? 0) >= 295, `fifth after two windows (${results[4]?.at})`)
  t.ok((results[2]?.p.waitedMs ?? 0) >= 140, 'waitedMs reports the queue time')
})

t.test('a call that would wait over maxWaitMs is refused at once, as a skip', async (t) => {
  const l = new RateLimiter({ sourceId: 'vt', requests: 1, perMs: 60_000, maxWaitMs: 1000 })
  t.teardown(() => l.close())
  ;(await l.acquire()).release()
  const started = performance.now()
  const err = await settle(l.acquire())
  t.ok(performance.now() - started < 100, 'refused without waiting')
  t.type(err, SourceError)
  if (!(err instanceof SourceError)) return
  t.equal(err.kind, 'rate_limited')
  t.equal(err.skipped, true)
  t.match(err.message, /would wait \d+ ms, over the limit of 1000 ms/)
})

t.test('a queued call still gives up at maxWaitMs when calls in flight run long', async (t) => {
  const l = new RateLimiter({ sourceId: 's', requests: 1, perMs: 10, maxWaitMs: 100 })
  t.teardown(() => l.close())
  const held = await l.acquire() // never released within the test
  const started = performance.now()
  const err = await settle(l.acquire())
  t.ok(performance.now() - started >= 95, 'waited up to maxWaitMs')
  t.equal((err as SourceError).kind, 'rate_limited')
  t.match((err as SourceError).message, /waited \d+ ms, over the limit of 100 ms/)
  held.release()
})

t.test('abort while queued -> cancelled, and the queue moves on', async (t) => {
  const l = new RateLimiter({ sourceId: 's', requests: 1, perMs: 100, maxWaitMs: 5000 })
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
  const p = await next
  t.ok(p.waitedMs >= 90)
  const already = await settle(l.acquire(AbortSignal.abort()))
  t.equal((already as SourceError).kind, 'cancelled')
})

t.test('pauseFor holds every call back; a pause longer than maxWait refuses', async (t) => {
  const l = new RateLimiter({ sourceId: 's', maxWaitMs: 500 })
  t.teardown(() => l.close())
  l.pauseFor(200)
  const p = await l.acquire()
  t.ok(p.waitedMs >= 190, `waited ${p.waitedMs} ms`)
  l.pauseFor(2000)
  t.ok(l.estimateWaitMs() > 1900)
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
