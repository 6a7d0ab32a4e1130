import t from 'tap'
import { pino } from 'pino'
import { loadServiceConfig } from '../../../src/config/env.js'
import { createHttpClientFactory } from '../../../src/http/client.js'
import type { Indicator } from '../../../src/indicators/types.js'
import { Metrics, SOURCE_REQUESTS_TOTAL } from '../../../src/metrics.js'
import { greynoiseSource } from '../../../src/sources/greynoise.js'
import type { LookupContext } from '../../../src/sources/types.js'
import { GOOD_KEY, gnBody, startFakeGreynoise } from './fake-greynoise.js'

const ip = (value: string): Indicator => ({ input: value, value, type: 'Address' })
const log = pino({ level: 'silent' })

const setup = async (t: { teardown(fn: () => unknown): void }, env: Record<string, string> = {}) => {
  const fake = await startFakeGreynoise(t)
  const config = loadServiceConfig(
    // A generous limit so one test's calls never queue behind the guessed community quota.
    { GREYNOISE_BASE_URL: fake.baseUrl, GREYNOISE_API_KEY: GOOD_KEY, GREYNOISE_RATE_LIMIT: '100/1s', ...env },
    [greynoiseSource],
  )
  const metrics = new Metrics()
  const http = createHttpClientFactory({ config, log, metrics, userAgent: 'tc-enrich-test/1.0' })
  const source = await greynoiseSource.start(config, { log, http })
  t.teardown(() => source.close?.())
  const ctx = (settings: Record<string, string | undefined> = {}): LookupContext => ({
    signal: new AbortController().signal,
    log,
    forceRefresh: false,
    deadlineAt: Date.now() + 60_000,
    keyPrint: 'test',
    settings: { ...config.sources['greynoise'], ...settings },
  })
  return { fake, source, ctx, metrics }
}

t.test('malicious: request shape and finding', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.address('198.51.100.23', gnBody('malicious'))
  const f = await source.lookup(ip('198.51.100.23'), ctx())
  t.equal(f.verdict, 'malicious')
  t.equal(f.facts['classification'], 'malicious')
  t.equal(f.facts['noise'], true)
  const req = fake.vendor.requests[0]
  t.equal(fake.vendor.requests.length, 1)
  t.equal(req?.method, 'GET')
  t.equal(req?.path, '/v3/community/198.51.100.23')
  t.equal(req?.headers['key'], GOOD_KEY)
})

t.test('RIOT service is benign; noise of unknown intent is suspicious', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.address('8.8.8.8', gnBody('riot-benign'))
  fake.address('203.0.113.9', gnBody('noise-unknown'))
  t.equal((await source.lookup(ip('8.8.8.8'), ctx())).verdict, 'benign')
  t.equal((await source.lookup(ip('203.0.113.9'), ctx())).verdict, 'suspicious')
})

t.test('not observed: 404 with JSON is an unknown finding, not a failure', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const f = await source.lookup(ip('2001:db8::7'), ctx())
  t.equal(f.verdict, 'unknown')
  t.equal(f.facts['observed'], false)
  t.match(f.raw, { ip: '2001:db8::7', message: /not observed/ })
  t.equal(fake.vendor.requests[0]?.path, '/v3/community/2001:db8::7')
  t.equal(fake.vendor.requests.length, 1, 'a 404 answer is not retried')
})

t.test('no key: still asks (community tier), sends no key header, health says so', async (t) => {
  const { fake, source, ctx } = await setup(t, { GREYNOISE_API_KEY: '' })
  t.match(source.health(), { state: 'ready', detail: /no GREYNOISE_API_KEY.*unauthenticated/ })
  fake.address('198.51.100.23', gnBody('malicious'))
  const f = await source.lookup(ip('198.51.100.23'), ctx())
  t.equal(f.verdict, 'malicious')
  t.notOk('key' in (fake.vendor.requests[0]?.headers ?? {}), 'no key header at all')
})

t.test('a key given per request is sent', async (t) => {
  const { fake, source, ctx } = await setup(t, { GREYNOISE_API_KEY: '' })
  await source.lookup(ip('192.0.2.200'), ctx({ apiKey: GOOD_KEY }))
  t.equal(fake.vendor.requests[0]?.headers['key'], GOOD_KEY)
})

t.test('wrong key: 401 -> auth failure', async (t) => {
  const { fake, source, ctx } = await setup(t, { GREYNOISE_API_KEY: 'not-the-key' })
  await t.rejects(source.lookup(ip('198.51.100.23'), ctx()), { name: 'SourceError', kind: 'auth', message: /HTTP 401/ })
  t.equal(fake.vendor.requests.length, 1)
})

t.test('429 with Retry-After: retried, then answered', async (t) => {
  const { fake, source, ctx, metrics } = await setup(t)
  fake.address('198.51.100.23', gnBody('malicious'))
  fake.next({ status: 429, headers: { 'retry-after': '1' }, json: gnBody('rate-limited') })
  const f = await source.lookup(ip('198.51.100.23'), ctx())
  t.equal(f.verdict, 'malicious')
  const [first, second] = fake.vendor.requests
  t.equal(fake.vendor.requests.length, 2)
  t.ok(first && second && second.arrivedAt - first.arrivedAt >= 900, 'waited about the Retry-After second')
  t.equal(await metrics.get(SOURCE_REQUESTS_TOTAL, { source: 'greynoise' }), 2)
})

t.test('429 without Retry-After after the retries -> rate_limited quoting the vendor', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.next(
    { status: 429, json: gnBody('rate-limited') },
    { status: 429, json: gnBody('rate-limited') },
    { status: 429, json: gnBody('rate-limited') },
  )
  await t.rejects(source.lookup(ip('198.51.100.23'), ctx()), {
    name: 'SourceError',
    kind: 'rate_limited',
    message: /daily rate limit/,
  })
})

t.test('400 non-routable address -> bad_answer quoting the vendor', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.next({ status: 400, json: gnBody('not-routable') })
  await t.rejects(source.lookup(ip('10.0.0.1'), ctx()), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /not a valid routable/,
  })
})

t.test('a message-only body with 200 -> bad_answer', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.next({ status: 200, json: { message: 'Internal lookup error' } })
  await t.rejects(source.lookup(ip('198.51.100.23'), ctx()), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /Internal lookup error/,
  })
})

t.test('definition', async (t) => {
  t.same(greynoiseSource.supports, ['Address'])
  t.same(greynoiseSource.rateLimits, [{ requests: 50, perMs: 86_400_000 }])
  t.same(
    greynoiseSource.settings.map((s) => [s.env, s.default]),
    [
      ['GREYNOISE_API_KEY', undefined],
      ['GREYNOISE_BASE_URL', 'https://api.greynoise.io'],
      ['GREYNOISE_RATE_LIMIT', '50/1d'],
    ],
  )
})
