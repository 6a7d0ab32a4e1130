/** The client's rate limiter and circuit breaker, observed from the fake vendor's side. */
import t from 'tap'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { SOURCE_FAILURES_TOTAL, SOURCE_REQUESTS_TOTAL, SOURCE_THROTTLED_WAITS_TOTAL } from '../../src/metrics.js'
import { clientUnderTest, failureOf } from './client-harness.js'

/** The most arrivals inside any window of `windowMs` (a window starting at each arrival). */
const busiestWindow = (arrivals: readonly number[], windowMs: number): number => {
  const sorted = [...arrivals].sort((a, b) => a - b)
  let most = 0
  for (let i = 0; i < sorted.length; i++) {
    let n = 0
    for (let j = i; j < sorted.length && (sorted[j] as number) - (sorted[i] as number) < windowMs; j++) n++
    most = Math.max(most, n)
  }
  return most
}

t.test('limit 5 per 1000 ms: 12 concurrent calls all succeed, no 1000 ms window sees more than 5', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/check', (req) => ({ json: { n: req.query['n'] } }))
  const { client, metrics } = clientUnderTest(t, {
    baseUrl: vendor.url,
    rateLimit: { requests: 5, perMs: 1000, maxWaitMs: 10_000 },
  })
  const calls = Array.from({ length: 12 }, (_, n) =>
    client.request({ method: 'GET', path: 'check', searchParams: { n } }),
  )
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(client.state().queued, 7, 'seven calls queue behind the first five')
  const results = await Promise.all(calls)
  t.same(
    results.map((r) => (r.body as { n: string }).n),
    Array.from({ length: 12 }, (_, n) => String(n)),
  )
  const arrivals = vendor.requests.map((r) => r.arrivedAt)
  t.equal(arrivals.length, 12)
  t.equal(busiestWindow(arrivals, 1000), 5, 'at most 5 arrivals in any 1000 ms')
  // The first five went straight out, in order. The queued seven leave the limiter in order, but the quota counts a
  // call from its end: on a loaded machine a call can end later than the limiter assumed, and the next one then
  // waits once more for the quota while a later one, let through after it, goes first. The limit still holds.
  t.same(
    vendor.requests.slice(0, 5).map((r) => r.query['n']),
    ['0', '1', '2', '3', '4'],
  )
  t.ok((await metrics.get(SOURCE_THROTTLED_WAITS_TOTAL, { source: 'vendor' })) >= 7, 'the seven queued calls waited')
  t.equal(client.state().queued, 0)
})

t.test('retries take a token too', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/flaky', { status: 503 }, { json: {} })
  const { client } = clientUnderTest(t, {
    baseUrl: vendor.url,
    rateLimit: { requests: 1, perMs: 300, maxWaitMs: 5000 },
    retry: { limit: 1, baseDelayMs: 1 },
  })
  await client.request({ method: 'GET', path: 'flaky' })
  const [a, b] = vendor.requests.map((r) => r.arrivedAt)
  t.ok((b ?? 0) - (a ?? 0) >= 300, `the retry waited for a token (${Math.round((b ?? 0) - (a ?? 0))} ms)`)
})

t.test('a call that would wait past maxWaitMs is skipped at once as rate_limited', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/check', { json: {} })
  const { client, metrics } = clientUnderTest(t, {
    baseUrl: vendor.url,
    rateLimit: { requests: 2, perMs: 60_000, maxWaitMs: 500 },
  })
  await client.request({ method: 'GET', path: 'check' })
  await client.request({ method: 'GET', path: 'check' })
  const started = performance.now()
  const err = await failureOf(client.request({ method: 'GET', path: 'check' }))
  t.ok(performance.now() - started < 200, 'refused without waiting')
  t.equal(err.kind, 'rate_limited')
  t.equal(err.skipped, true)
  t.match(err.message, /quota \(2\/1m\) is spent: the next call is free in \d+ s, over the wait of 500 ms$/)
  t.equal(vendor.requests.length, 2)
  t.equal(await metrics.get(SOURCE_REQUESTS_TOTAL, { source: 'vendor' }), 2, 'the skipped call is not a request')
  t.equal(await metrics.get(SOURCE_FAILURES_TOTAL, { source: 'vendor', kind: 'rate_limited' }), 1)
})

t.test('breaker: opens after N failures, skips, half-open trial after the cool-down', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/x', { status: 500 })
  const { client, metrics } = clientUnderTest(t, {
    baseUrl: vendor.url,
    retry: { limit: 0 },
    breaker: { failureThreshold: 3, coolDownMs: 300 },
  })
  for (let i = 0; i < 3; i++)
    t.equal((await failureOf(client.request({ method: 'GET', path: 'x' }))).kind, 'http_error')
  t.equal(client.state().circuit, 'open')
  const skipped = await failureOf(client.request({ method: 'GET', path: 'x' }))
  t.equal(skipped.kind, 'circuit_open')
  t.equal(skipped.skipped, true)
  t.equal(skipped.message, 'circuit open after 3 consecutive failures; next trial in 1 s')
  t.equal(vendor.requests.length, 3, 'the skipped call never reached the vendor')

  await new Promise((resolve) => setTimeout(resolve, 320))
  t.equal(client.state().circuit, 'half_open')
  // The trial fails: open again, without a new run of 3 failures.
  t.equal((await failureOf(client.request({ method: 'GET', path: 'x' }))).kind, 'http_error')
  t.equal(client.state().circuit, 'open')
  t.equal((await failureOf(client.request({ method: 'GET', path: 'x' }))).kind, 'circuit_open')
  t.equal(vendor.requests.length, 4)

  await new Promise((resolve) => setTimeout(resolve, 320))
  vendor.route('GET', '/x', { delayMs: 100, json: { back: true } })
  const trial = client.request({ method: 'GET', path: 'x' })
  const during = await failureOf(client.request({ method: 'GET', path: 'x' }))
  t.equal(during.kind, 'circuit_open', 'only one trial goes through')
  t.match(during.message, /trial call is in progress/)
  t.same((await trial).body, { back: true })
  t.equal(client.state().circuit, 'closed')
  t.same((await client.request({ method: 'GET', path: 'x' })).body, { back: true })
  t.equal(await metrics.get(SOURCE_FAILURES_TOTAL, { source: 'vendor', kind: 'circuit_open' }), 3)
})

t.test('breaker counts network errors, timeouts and bad answers; not 4xx answers', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/reset', { reset: true })
  vendor.route('GET', '/hang', { hang: true })
  vendor.route('GET', '/bad', { body: 'not json' })
  vendor.route('GET', '/404', { status: 404 })
  vendor.route('GET', '/401', { status: 401 })
  vendor.route('GET', '/429', { status: 429 })
  const { client } = clientUnderTest(t, {
    baseUrl: vendor.url,
    retry: { limit: 0 },
    timeouts: { connectMs: 500, responseMs: 100, totalMs: 500 },
    breaker: { failureThreshold: 3, coolDownMs: 60_000 },
  })
  for (const path of ['404', '401', '429', '404', '401', '429'])
    await failureOf(client.request({ method: 'GET', path }))
  t.equal(client.state().circuit, 'closed', '4xx answers never open it')
  await failureOf(client.request({ method: 'GET', path: 'reset' }))
  await failureOf(client.request({ method: 'GET', path: 'hang' }))
  await failureOf(client.request({ method: 'GET', path: '404' }))
  t.equal(client.state().circuit, 'closed', 'an answer in between resets the count')
  await failureOf(client.request({ method: 'GET', path: 'reset' }))
  await failureOf(client.request({ method: 'GET', path: 'hang' }))
  await failureOf(client.request({ method: 'GET', path: 'bad' }))
  t.equal(client.state().circuit, 'open')
})

t.test('a cancelled call neither opens nor closes the breaker', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/x', { status: 503 })
  vendor.route('GET', '/slow', { delayMs: 2000, json: {} })
  const { client } = clientUnderTest(t, {
    baseUrl: vendor.url,
    retry: { limit: 0 },
    breaker: { failureThreshold: 1, coolDownMs: 100 },
  })
  await failureOf(client.request({ method: 'GET', path: 'x' }))
  await new Promise((resolve) => setTimeout(resolve, 120))
  const err = await failureOf(client.request({ method: 'GET', path: 'slow', signal: AbortSignal.timeout(50) }))
  t.equal(err.kind, 'cancelled')
  t.equal(client.state().circuit, 'half_open', 'the next call may be the trial')
  t.equal((await failureOf(client.request({ method: 'GET', path: 'x' }))).kind, 'http_error', 'and it was')
})

t.test(
  "every window the vendor counts holds: a daily quota refuses once spent, though the minute's has room",
  async (t) => {
    const vendor = await startFakeVendor(t)
    vendor.route('GET', '/check', { json: {} })
    const { client } = clientUnderTest(t, {
      baseUrl: vendor.url,
      rateLimit: { requests: 100, perMs: 60_000, maxWaitMs: 500 },
      quotaWindows: [
        { requests: 100, perMs: 60_000 },
        { requests: 2, perMs: 86_400_000 },
      ],
    })
    await client.request({ method: 'GET', path: 'check', headers: { 'x-apikey': 'key-one' }, quotaKey: 'print-one' })
    await client.request({ method: 'GET', path: 'check', headers: { 'x-apikey': 'key-one' }, quotaKey: 'print-one' })
    const err = await failureOf(
      client.request({ method: 'GET', path: 'check', headers: { 'x-apikey': 'key-one' }, quotaKey: 'print-one' }),
    )
    t.match(err, { kind: 'rate_limited', skipped: true, message: /quota \(100\/1m, 2\/1d\) is spent/ })
    t.equal(vendor.requests.length, 2, 'the third call never reached the vendor')
    t.notMatch(err.message, /key-one/, 'the key is not in the message')
    // The quota is the key's: another key has its own day.
    await client.request({ method: 'GET', path: 'check', headers: { 'x-apikey': 'key-two' }, quotaKey: 'print-two' })
    t.equal(vendor.requests.length, 3, "another key's call goes out")
  },
)

t.test('a 429 pauses the key that got it: another API key of the same vendor goes on at once', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/check', (req) =>
    req.headers['x-apikey'] === 'key-a'
      ? { status: 429, headers: { 'retry-after': '30' }, json: {} }
      : { json: { ok: true } },
  )
  const { client } = clientUnderTest(t, {
    baseUrl: vendor.url,
    retry: { limit: 0 },
    rateLimit: { requests: 100, perMs: 60_000, maxWaitMs: 1_000 },
  })
  const a = await failureOf(
    client.request({ method: 'GET', path: 'check', headers: { 'x-apikey': 'key-a' }, quotaKey: 'print-a' }),
  )
  t.equal(a.kind, 'rate_limited')
  const started = performance.now()
  const b = await client.request({
    method: 'GET',
    path: 'check',
    headers: { 'x-apikey': 'key-b' },
    quotaKey: 'print-b',
  })
  t.same(b.body, { ok: true }, "tenant B's call went out")
  t.ok(performance.now() - started < 1_000, 'without waiting out tenant A’s pause')
  const again = await failureOf(
    client.request({ method: 'GET', path: 'check', headers: { 'x-apikey': 'key-a' }, quotaKey: 'print-a' }),
  )
  t.match(
    again,
    { kind: 'rate_limited', skipped: true, message: /asked for a pause \(HTTP 429\)/ },
    'tenant A stays paused',
  )
  t.equal(vendor.requests.length, 2, "tenant A's second call never reached the vendor")
})
