import t from 'tap'
import { pino } from 'pino'
import { loadServiceConfig } from '../../../src/config/env.js'
import { createHttpClientFactory } from '../../../src/http/client.js'
import type { Indicator } from '../../../src/indicators/types.js'
import { Metrics, SOURCE_REQUESTS_TOTAL } from '../../../src/metrics.js'
import { abuseipdbSource } from '../../../src/sources/abuseipdb.js'
import type { LookupContext } from '../../../src/sources/types.js'
import { API_PREFIX, GOOD_KEY, abuseBody, startFakeAbuseipdb } from './fake-abuseipdb.js'

const ip = (value: string): Indicator => ({ input: value, value, type: 'Address' })
const log = pino({ level: 'silent' })

const setup = async (t: { teardown(fn: () => unknown): void }, env: Record<string, string> = {}) => {
  const fake = await startFakeAbuseipdb(t)
  const config = loadServiceConfig({ ABUSEIPDB_BASE_URL: fake.baseUrl, ABUSEIPDB_API_KEY: GOOD_KEY, ...env }, [
    abuseipdbSource,
  ])
  const metrics = new Metrics()
  const http = createHttpClientFactory({ config, log, metrics, userAgent: 'tc-enrich-test/1.0' })
  const source = await abuseipdbSource.start(config, { log, http })
  t.teardown(() => source.close?.())
  const ctx = (settings: Record<string, string | undefined> = {}): LookupContext => ({
    signal: new AbortController().signal,
    log,
    forceRefresh: false,
    deadlineAt: Date.now() + 60_000,
    keyPrint: 'test',
    settings: { ...config.sources['abuseipdb'], ...settings },
  })
  return { fake, source, ctx, metrics }
}

t.test('malicious: request shape and finding', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.address('198.51.100.23', abuseBody('check-malicious'))
  const f = await source.lookup(ip('198.51.100.23'), ctx())
  t.equal(f.verdict, 'malicious')
  t.equal(f.score, 100)
  t.equal(f.facts['total_reports'], 1543)
  t.equal(f.facts['isp'], 'Example Hosting B.V.')
  t.equal(fake.vendor.requests.length, 1)
  const req = fake.vendor.requests[0]
  t.equal(req?.method, 'GET')
  t.equal(req?.path, `${API_PREFIX}/check`)
  t.same(req?.query, { ipAddress: '198.51.100.23', maxAgeInDays: '90' })
  t.equal(req?.headers['key'], GOOD_KEY)
  t.match(req?.headers['accept'], /application\/json/)
})

t.test('IPv6 address is sent encoded in the query and comes back suspicious', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.address('2001:db8::7', abuseBody('check-suspicious-tor'))
  const f = await source.lookup(ip('2001:db8::7'), ctx())
  t.equal(f.verdict, 'suspicious')
  t.same(f.tags, ['tor', 'reported'])
  t.match(fake.vendor.requests[0]?.url, /ipAddress=2001%3Adb8%3A%3A7/)
})

t.test('allow-listed address is benign', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.address('8.8.8.8', abuseBody('check-whitelisted'))
  const f = await source.lookup(ip('8.8.8.8'), ctx())
  t.equal(f.verdict, 'benign')
})

t.test('never reported (200, score 0, no reports) is unknown, not benign', async (t) => {
  const { source, ctx } = await setup(t)
  const f = await source.lookup(ip('192.0.2.200'), ctx())
  t.equal(f.verdict, 'unknown')
  t.equal(f.score, 0)
  t.equal(f.facts['total_reports'], 0)
  t.equal(f.facts['last_reported_at'], null)
})

t.test('wrong key: 401 -> auth failure, not retried', async (t) => {
  const { fake, source, ctx } = await setup(t, { ABUSEIPDB_API_KEY: 'not-the-key' })
  await t.rejects(source.lookup(ip('198.51.100.23'), ctx()), {
    name: 'SourceError',
    kind: 'auth',
    message: /HTTP 401/,
  })
  t.equal(fake.vendor.requests.length, 1)
})

t.test('missing key: skipped as not_configured without calling out', async (t) => {
  const { fake, source, ctx } = await setup(t, { ABUSEIPDB_API_KEY: '' })
  t.match(source.health(), { state: 'not_configured', detail: /ABUSEIPDB_API_KEY/ })
  await t.rejects(source.lookup(ip('198.51.100.23'), ctx()), {
    name: 'SourceError',
    kind: 'not_configured',
    skipped: true,
  })
  t.equal(fake.vendor.requests.length, 0)
})

t.test('a key given per request works without an env key', async (t) => {
  const { fake, source, ctx } = await setup(t, { ABUSEIPDB_API_KEY: '' })
  const f = await source.lookup(ip('192.0.2.200'), ctx({ apiKey: GOOD_KEY }))
  t.equal(f.verdict, 'unknown')
  t.equal(fake.vendor.requests[0]?.headers['key'], GOOD_KEY)
})

t.test('429 with Retry-After: retried, then answered', async (t) => {
  const { fake, source, ctx, metrics } = await setup(t)
  fake.address('198.51.100.23', abuseBody('check-malicious'))
  fake.next({
    status: 429,
    headers: { 'retry-after': '1', 'x-ratelimit-limit': '1000', 'x-ratelimit-remaining': '0' },
    json: abuseBody('rate-limited'),
  })
  const f = await source.lookup(ip('198.51.100.23'), ctx())
  t.equal(f.verdict, 'malicious')
  const [first, second] = fake.vendor.requests
  t.equal(fake.vendor.requests.length, 2)
  t.ok(first && second && second.arrivedAt - first.arrivedAt >= 900, 'waited about the Retry-After second')
  t.equal(await metrics.get(SOURCE_REQUESTS_TOTAL, { source: 'abuseipdb' }), 2)
})

t.test('daily quota spent (Retry-After an hour away) -> rate_limited at once, no retry', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const resetAt = Math.floor(Date.now() / 1000) + 3600
  fake.next({
    status: 429,
    headers: {
      'retry-after': '3600',
      'x-ratelimit-limit': '1000',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(resetAt),
    },
    json: abuseBody('rate-limited'),
  })
  await t.rejects(source.lookup(ip('198.51.100.23'), ctx()), {
    name: 'SourceError',
    kind: 'rate_limited',
    message: /Daily rate limit of 1000 requests exceeded/,
  })
  t.equal(fake.vendor.requests.length, 1)
})

t.test('422 invalid address -> bad_answer quoting the vendor', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.next({ status: 422, json: abuseBody('invalid-ip') })
  await t.rejects(source.lookup(ip('198.51.100.23'), ctx()), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /422: The ip address must be a valid/,
  })
  t.equal(fake.vendor.requests.length, 1)
})

t.test('an error body with 200 -> bad_answer', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.next({ status: 200, json: abuseBody('rate-limited') })
  await t.rejects(source.lookup(ip('198.51.100.23'), ctx()), { name: 'SourceError', kind: 'bad_answer' })
})

t.test('health and definition', async (t) => {
  const { source } = await setup(t)
  t.same(source.health(), { state: 'ready', detail: 'API key set' })
  t.same(abuseipdbSource.supports, ['Address'])
  t.same(abuseipdbSource.rateLimits, [{ requests: 1000, perMs: 86_400_000 }])
  t.same(
    abuseipdbSource.settings.map((s) => [s.env, s.default]),
    [
      ['ABUSEIPDB_API_KEY', undefined],
      ['ABUSEIPDB_BASE_URL', 'https://api.abuseipdb.com/api/v2'],
      ['ABUSEIPDB_RATE_LIMIT', '1000/1d'],
    ],
  )
})
