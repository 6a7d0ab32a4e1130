/** Retries, backoff, Retry-After and vendor quota headers, against a fake vendor (arrivals counted and timed). */
import t from 'tap'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import {
  SOURCE_FAILURES_TOTAL,
  SOURCE_REQUESTS_TOTAL,
  SOURCE_RETRIES_TOTAL,
  SOURCE_THROTTLED_WAITS_TOTAL,
} from '../../src/metrics.js'
import { clientUnderTest, failureOf } from './client-harness.js'

const gaps = (times: readonly number[]): number[] => times.slice(1).map((at, i) => at - (times[i] as number))

t.test('503 then success: retried, with backoff between arrivals', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/flaky', { status: 503 }, { status: 502 }, { json: { ok: true } })
  const { client, metrics } = clientUnderTest(t, {
    baseUrl: vendor.url,
    retry: { limit: 2, baseDelayMs: 100, maxDelayMs: 1000 },
  })
  const res = await client.request({ method: 'GET', path: 'flaky' })
  t.same(res.body, { ok: true })
  t.equal(res.attempts, 3)
  const arrivals = vendor.requestsTo('/flaky').map((r) => r.arrivedAt)
  t.equal(arrivals.length, 3)
  // random() = 1 in the harness: delays are exactly base * 2^(n-1).
  const [first, second] = gaps(arrivals)
  t.ok((first ?? 0) >= 95, `first retry after ${first} ms (>= 100)`)
  t.ok((second ?? 0) >= 195, `second retry after ${second} ms (>= 200)`)
  t.equal(await metrics.get(SOURCE_RETRIES_TOTAL, { source: 'vendor' }), 2)
  t.equal(await metrics.get(SOURCE_REQUESTS_TOTAL, { source: 'vendor' }), 3)
})

t.test('every retryable status is retried: 408 500 504', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/s', { status: 408 }, { status: 500 }, { status: 504 }, { json: { fine: 1 } })
  const { client } = clientUnderTest(t, { baseUrl: vendor.url, retry: { limit: 3, baseDelayMs: 1 } })
  const res = await client.request({ method: 'GET', path: 's' })
  t.equal(res.attempts, 4)
})

t.test('retry cap: limit 2 means 3 arrivals, then http_error with the status', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/down', { status: 500, json: { message: 'internal  error\n(boom)' } })
  const { client, metrics } = clientUnderTest(t, { baseUrl: vendor.url, retry: { limit: 2, baseDelayMs: 5 } })
  const err = await failureOf(client.request({ method: 'GET', path: 'down' }))
  t.equal(err.kind, 'http_error')
  t.equal(err.message, 'vendor answered HTTP 500: internal error (boom)')
  t.equal(vendor.requests.length, 3)
  t.equal(await metrics.get(SOURCE_RETRIES_TOTAL, { source: 'vendor' }), 2)
  t.equal(await metrics.get(SOURCE_FAILURES_TOTAL, { source: 'vendor', kind: 'http_error' }), 1)
})

t.test('retry limit 0: one arrival', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/down', { status: 503 })
  const { client } = clientUnderTest(t, { baseUrl: vendor.url, retry: { limit: 0 } })
  await failureOf(client.request({ method: 'GET', path: 'down' }))
  t.equal(vendor.requests.length, 1)
})

t.test('4xx other than 408/429 are not retried', async (t) => {
  const vendor = await startFakeVendor(t)
  for (const status of [400, 404, 405, 409, 410, 422]) vendor.route('GET', `/${status}`, { status })
  const { client } = clientUnderTest(t, { baseUrl: vendor.url })
  for (const status of [400, 404, 405, 409, 410, 422]) {
    const err = await failureOf(client.request({ method: 'GET', path: String(status) }))
    t.equal(err.kind, 'http_error', `${status}`)
  }
  t.equal(vendor.requests.length, 6)
})

t.test('429 with Retry-After in seconds: the retry arrives after the wait', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/quota', { status: 429, headers: { 'retry-after': '1' } }, { json: { ok: true } })
  const { client, metrics } = clientUnderTest(t, { baseUrl: vendor.url })
  const res = await client.request({ method: 'GET', path: 'quota' })
  t.same(res.body, { ok: true })
  const [gap] = gaps(vendor.requestsTo('/quota').map((r) => r.arrivedAt))
  t.ok((gap ?? 0) >= 995, `retry arrived ${Math.round(gap ?? 0)} ms later (>= 1000)`)
  t.ok((gap ?? 0) < 2000, 'and did not wait much longer')
  t.equal(await metrics.get(SOURCE_RETRIES_TOTAL, { source: 'vendor' }), 1)
})

t.test('a 429 holds back every caller of the client, and an abort still cuts that wait short', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/quota', { status: 429, headers: { 'retry-after': '1' } }, { json: { ok: true } })
  vendor.route('GET', '/other', { json: { other: true } })
  const { client, metrics } = clientUnderTest(t, { baseUrl: vendor.url })
  const first = client.request({ method: 'GET', path: 'quota' })
  await new Promise((resolve) => setTimeout(resolve, 100))
  const other = client.request({ method: 'GET', path: 'other' })
  const abortable = failureOf(client.request({ method: 'GET', path: 'other', signal: AbortSignal.timeout(300) }))
  t.equal((await abortable).kind, 'cancelled')
  await Promise.all([first, other])
  const firstArrival = vendor.requestsTo('/quota')[0]?.arrivedAt ?? 0
  const others = vendor.requestsTo('/other')
  t.equal(others.length, 1, 'the aborted call never went out')
  const gap = (others[0]?.arrivedAt ?? 0) - firstArrival
  t.ok(gap >= 995, `another caller waited for the Retry-After too (${Math.round(gap)} ms)`)
  const throttled = await metrics.get(SOURCE_THROTTLED_WAITS_TOTAL, { source: 'vendor' })
  t.equal(throttled, 2, `the retry and the other call waited (counted ${throttled})`)
})

t.test('429 with Retry-After as an HTTP date: the retry arrives at that time', async (t) => {
  const vendor = await startFakeVendor(t)
  let retryAt = 0
  vendor.route(
    'GET',
    '/quota',
    () => {
      // HTTP dates have whole seconds: ask for the second after next, so the wait is 1-2 s.
      retryAt = (Math.floor(Date.now() / 1000) + 2) * 1000
      return { status: 429, headers: { 'retry-after': new Date(retryAt).toUTCString() } }
    },
    { json: { ok: true } },
  )
  const { client } = clientUnderTest(t, { baseUrl: vendor.url })
  await client.request({ method: 'GET', path: 'quota' })
  const second = vendor.requestsTo('/quota')[1]
  t.ok(second !== undefined)
  t.ok(
    (second?.arrivedAt ?? 0) >= retryAt - 5,
    `retry arrived ${Math.round((second?.arrivedAt ?? 0) - retryAt)} ms after the date`,
  )
})

t.test('429 asking for longer than maxWaitMs fails fast with rate_limited ... retry after N s', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/quota', {
    status: 429,
    headers: { 'retry-after': '3600' },
    json: { errors: [{ detail: 'Daily rate limit of 1000 requests exceeded for this endpoint.', status: 429 }] },
  })
  const { client } = clientUnderTest(t, {
    baseUrl: vendor.url,
    rateLimit: { requests: 10, perMs: 1000, maxWaitMs: 2000 },
  })
  const started = performance.now()
  const err = await failureOf(client.request({ method: 'GET', path: 'quota' }))
  t.ok(performance.now() - started < 500, 'no waiting')
  t.equal(err.kind, 'rate_limited')
  t.equal(err.skipped, false, 'the vendor was asked')
  t.equal(
    err.message,
    'vendor is rate limiting (HTTP 429): Daily rate limit of 1000 requests exceeded for this endpoint.; retry after 3600 s',
  )
  t.equal(vendor.requests.length, 1)
})

t.test('429 after the retries -> rate_limited', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/quota', { status: 429 })
  const { client, metrics } = clientUnderTest(t, { baseUrl: vendor.url, retry: { limit: 1, baseDelayMs: 5 } })
  const err = await failureOf(client.request({ method: 'GET', path: 'quota' }))
  t.equal(err.kind, 'rate_limited')
  t.equal(vendor.requests.length, 2)
  t.equal(await metrics.get(SOURCE_FAILURES_TOTAL, { source: 'vendor', kind: 'rate_limited' }), 1)
})

t.test('429 with X-RateLimit-Remaining 0 and a reset (no Retry-After) waits for the reset', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route(
    'GET',
    '/q',
    { status: 429, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' } },
    { json: {} },
  )
  const { client } = clientUnderTest(t, { baseUrl: vendor.url })
  await client.request({ method: 'GET', path: 'q' })
  const [gap] = gaps(vendor.requestsTo('/q').map((r) => r.arrivedAt))
  t.ok((gap ?? 0) >= 995, `retry after ${Math.round(gap ?? 0)} ms`)
})

t.test('X-RateLimit-Remaining 0 with a reset on a success pauses the whole client until the reset', async (t) => {
  const vendor = await startFakeVendor(t)
  let resetEpochSeconds = 0
  vendor.route('GET', '/a', { json: { n: 1 }, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' } })
  vendor.route('GET', '/b', { json: { n: 2 } })
  vendor.route('GET', '/c', () => {
    resetEpochSeconds = Math.floor(Date.now() / 1000) + 1
    return { json: { n: 3 }, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(resetEpochSeconds) } }
  })
  const { client, metrics } = clientUnderTest(t, { baseUrl: vendor.url })

  // Small reset value: seconds from now.
  await client.request({ method: 'GET', path: 'a' })
  const res = await client.request({ method: 'GET', path: 'b' })
  t.same(res.body, { n: 2 })
  const gap = (vendor.requestsTo('/b')[0]?.arrivedAt ?? 0) - (vendor.requestsTo('/a')[0]?.arrivedAt ?? 0)
  t.ok(gap >= 995, `next call held back ${Math.round(gap)} ms (reset in 1 s)`)
  t.equal(await metrics.get(SOURCE_THROTTLED_WAITS_TOTAL, { source: 'vendor' }), 1)

  // Large reset value: epoch seconds.
  await client.request({ method: 'GET', path: 'c' })
  await client.request({ method: 'GET', path: 'b' })
  const arrived = vendor.requestsTo('/b')[1]?.arrivedAt ?? 0
  t.ok(
    arrived >= resetEpochSeconds * 1000 - 20,
    `arrived ${Math.round(arrived - resetEpochSeconds * 1000)} ms after the reset time`,
  )
})

t.test('a quota pause longer than maxWaitMs makes later calls skip at once', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/a', { json: {}, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '3600' } })
  const { client } = clientUnderTest(t, {
    baseUrl: vendor.url,
    rateLimit: { requests: 100, perMs: 1000, maxWaitMs: 1000 },
  })
  await client.request({ method: 'GET', path: 'a' })
  const err = await failureOf(client.request({ method: 'GET', path: 'a' }))
  t.equal(err.kind, 'rate_limited')
  t.equal(err.skipped, true)
  t.match(err.message, /asked for a pause \(HTTP 429\): the next call is free in \d+ s, over the wait of 1000 ms/)
  t.equal(vendor.requests.length, 1)
})
