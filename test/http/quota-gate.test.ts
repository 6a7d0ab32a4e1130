import t from 'tap'
import { QuotaGate, type Pass } from '../../src/http/quota-gate.js'
import { SourceError } from '../../src/errors.js'
import { MemoryQuota } from '../../src/state/quota.js'
import { FakeClock } from '../helpers/fake-clock.js'

const settle = <T>(p: Promise<T>): Promise<T | SourceError> => p.catch((err: SourceError) => err)

const gate = (clock: FakeClock, windows: { requests: number; perMs: number }[], maxWaitMs = 5_000): QuotaGate =>
  new QuotaGate({ upstream: 'vt', quota: new MemoryQuota(clock), windows, maxWaitMs, maxCallMs: 10_000, clock })

t.test('no windows: every call goes at once, with no ticket to settle', async (t) => {
  const g = gate(new FakeClock(), [])
  const passes = await Promise.all(Array.from({ length: 50 }, () => g.acquire('vt:k1', undefined, undefined)))
  t.ok(passes.every((p) => p.waitedMs === 0 && p.ticket === undefined))
  t.equal(g.queued, 0)
})

t.test('one FIFO queue per key: a call comes back perMs after the call it waits on ended', async (t) => {
  const clock = new FakeClock()
  const g = gate(clock, [{ requests: 2, perMs: 150 }])
  t.teardown(() => g.close())
  const granted: { i: number; at: number; p: Pass }[] = []
  for (let i = 0; i < 5; i += 1) {
    g.acquire('vt:k1', undefined, undefined).then(
      (p) => granted.push({ i, at: clock.now(), p }),
      () => undefined,
    )
  }
  await clock.advance(0)
  t.same(
    granted.map((g) => [g.i, g.at]),
    [
      [0, 0],
      [1, 0],
    ],
    'the first two at once',
  )
  t.equal(g.queued, 3, 'three calls wait')
  await clock.advance(10)
  for (const x of granted) g.settle(x.p)
  await clock.advance(149)
  t.equal(granted.length, 2, 'nothing before the window has passed since the calls ended')
  await clock.advance(2)
  t.same(
    granted.map((g) => [g.i, g.at]),
    [
      [0, 0],
      [1, 0],
      [2, 161],
      [3, 161],
    ],
    'the next two one window after they ended, in order',
  )
  t.equal(granted[2]?.p.waitedMs, 161, 'waitedMs reports the time queued')
})

t.test('a pause holds one key only: another API key of the same vendor goes on', async (t) => {
  const clock = new FakeClock()
  const g = gate(clock, [{ requests: 10, perMs: 1_000 }])
  t.teardown(() => g.close())
  g.pause('vt:tenant-a', 2_000)
  let a: Pass | undefined
  void g.acquire('vt:tenant-a', undefined, undefined).then((p) => (a = p))
  const b = await g.acquire('vt:tenant-b', undefined, undefined)
  t.equal(b.waitedMs, 0, 'tenant B is not held by tenant A’s 429')
  await clock.advance(1_999)
  t.equal(a, undefined, 'tenant A waits out its pause')
  await clock.advance(2)
  t.equal(a?.waitedMs, 2_000)
})

t.test('a call that would wait over maxWaitMs is refused at once, as a skip, naming the quota', async (t) => {
  const clock = new FakeClock()
  const g = gate(clock, [{ requests: 1, perMs: 60_000 }], 1_000)
  t.teardown(() => g.close())
  g.settle(await g.acquire('vt:k', undefined, undefined))
  const err = await settle(g.acquire('vt:k', undefined, undefined))
  t.equal(clock.now(), 0, 'refused without any time passing')
  t.type(err, SourceError)
  if (!(err instanceof SourceError)) return
  t.equal(err.kind, 'rate_limited')
  t.equal(err.skipped, true)
  t.match(err.message, /vt quota \(1\/1m\) is spent: the next call is free in 6\d s, over the wait of 1000 ms/)
})

t.test("a wait past the caller's deadline is refused at once; one within it is waited", async (t) => {
  const clock = new FakeClock()
  const g = gate(clock, [{ requests: 1, perMs: 500 }])
  t.teardown(() => g.close())
  g.settle(await g.acquire('vt:k', undefined, undefined))
  const soon = Date.now() + 100
  const err = await settle(g.acquire('vt:k', undefined, soon))
  t.match((err as SourceError).message, /past the run's deadline/)
  let later: Pass | undefined
  void g.acquire('vt:k', undefined, Date.now() + 60_000).then((p) => (later = p))
  await clock.advance(501)
  t.ok(later, 'granted once the window had room')
})

t.test('abort while queued -> cancelled with the reason, and the queue moves on', async (t) => {
  const clock = new FakeClock()
  const g = gate(clock, [{ requests: 1, perMs: 100 }])
  t.teardown(() => g.close())
  const first = await g.acquire('vt:k', undefined, undefined)
  const ac = new AbortController()
  const aborted = settle(g.acquire('vt:k', ac.signal, undefined))
  const next = g.acquire('vt:k', undefined, undefined)
  await clock.advance(0)
  ac.abort(new Error('run deadline passed'))
  const err = await aborted
  t.equal((err as SourceError).kind, 'cancelled')
  t.match((err as SourceError).message, /run deadline passed/)
  t.equal(g.queued, 1)
  g.settle(first)
  await clock.advance(101)
  t.equal((await next).waitedMs, 101, 'granted one window after the first call ended')
  t.equal(((await settle(g.acquire('vt:k', AbortSignal.abort(), undefined))) as SourceError).kind, 'cancelled')
})

t.test('a pause longer than maxWait refuses at once, saying the upstream paused', async (t) => {
  const clock = new FakeClock()
  const g = gate(clock, [], 500)
  t.teardown(() => g.close())
  g.pause('slack', 2_000)
  const err = await settle(g.acquire('slack', undefined, undefined))
  t.equal((err as SourceError).kind, 'rate_limited')
  t.match((err as SourceError).message, /asked for a pause \(HTTP 429\)/)
})

t.test('close fails queued calls, and later ones', async (t) => {
  const clock = new FakeClock()
  const g = gate(clock, [{ requests: 1, perMs: 10_000 }])
  await g.acquire('vt:k', undefined, undefined)
  const waiting = settle(g.acquire('vt:k', undefined, undefined))
  await clock.advance(0)
  g.close()
  t.equal(((await waiting) as SourceError).kind, 'cancelled')
  t.equal(((await settle(g.acquire('vt:k', undefined, undefined))) as SourceError).kind, 'cancelled')
})

t.test('bad limits are refused', async (t) => {
  const quota = new MemoryQuota()
  t.throws(
    () => new QuotaGate({ upstream: 's', quota, windows: [{ requests: 0, perMs: 10 }], maxCallMs: 1 }),
    /at least 1/,
  )
  t.throws(
    () => new QuotaGate({ upstream: 's', quota, windows: [{ requests: 3, perMs: 0 }], maxCallMs: 1 }),
    /at least 1/,
  )
})
