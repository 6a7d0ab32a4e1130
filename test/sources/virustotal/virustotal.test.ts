import t from 'tap'
import { pino } from 'pino'
import { loadServiceConfig } from '../../../src/config/env.js'
import { SourceError } from '../../../src/errors.js'
import { createHttpClientFactory } from '../../../src/http/client.js'
import type { Indicator, IndicatorType } from '../../../src/indicators/types.js'
import { Metrics, SOURCE_REQUESTS_TOTAL } from '../../../src/metrics.js'
import type { LookupContext } from '../../../src/sources/types.js'
import { virustotalSource, virustotalUrlId } from '../../../src/sources/virustotal.js'
import { API_PREFIX, GOOD_KEY, startFakeVirustotal, vtBody } from './fake-virustotal.js'

const ind = (type: IndicatorType, value: string): Indicator => ({ input: value, value, type })
const log = pino({ level: 'silent' })

const setup = async (t: { teardown(fn: () => unknown): void }, env: Record<string, string> = {}) => {
  const fake = await startFakeVirustotal(t)
  const config = loadServiceConfig(
    // A generous limit so one test's handful of calls never queue behind the public API's 4/min.
    { VIRUSTOTAL_BASE_URL: fake.baseUrl, VIRUSTOTAL_API_KEY: GOOD_KEY, VIRUSTOTAL_RATE_LIMIT: '100/1s', ...env },
    [virustotalSource],
  )
  const metrics = new Metrics()
  const http = createHttpClientFactory({ config, log, metrics, userAgent: 'tc-enrich-test/1.0' })
  const source = await virustotalSource.start(config, { log, http })
  t.teardown(() => source.close?.())
  const ctx = (settings: Record<string, string | undefined> = {}): LookupContext => ({
    signal: new AbortController().signal,
    log,
    forceRefresh: false,
    deadlineAt: Date.now() + 60_000,
    keyPrint: 'test',
    settings: { ...config.sources['virustotal'], ...settings },
  })
  return { fake, source, ctx, metrics }
}

t.test('malicious IP: request shape and finding', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.object('/ip_addresses/198.51.100.23', vtBody('ip-malicious'))
  const f = await source.lookup(ind('Address', '198.51.100.23'), ctx())
  t.equal(f.verdict, 'malicious')
  t.equal(f.facts['malicious'], 12)
  t.equal(f.facts['link'], 'https://www.virustotal.com/gui/ip-address/198.51.100.23')
  const [req] = fake.vendor.requests
  t.equal(fake.vendor.requests.length, 1)
  t.equal(req?.method, 'GET')
  t.equal(req?.path, `${API_PREFIX}/ip_addresses/198.51.100.23`)
  t.equal(req?.headers['x-apikey'], GOOD_KEY)
  t.equal(req?.body, '')
})

t.test('IPv6, domain and file hash paths', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.object('/domains/example.com', vtBody('domain-benign'))
  fake.object('/files/275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f', vtBody('file-malicious'))
  const v6 = await source.lookup(ind('Address', '2001:db8::7'), ctx())
  t.equal(v6.verdict, 'unknown', 'not in the fake: NotFoundError')
  const domain = await source.lookup(ind('Host', 'example.com'), ctx())
  t.equal(domain.verdict, 'benign')
  const file = await source.lookup(
    ind('File', '44d88612fea8a8f36de82e1278abb02f : 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f'),
    ctx(),
  )
  t.equal(file.verdict, 'malicious')
  t.same(
    fake.vendor.requests.map((r) => r.path),
    [
      `${API_PREFIX}/ip_addresses/2001:db8::7`,
      `${API_PREFIX}/domains/example.com`,
      `${API_PREFIX}/files/275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f`,
    ],
  )
})

t.test('URL is asked by its unpadded URL-safe base64 id', async (t) => {
  const { fake, source, ctx } = await setup(t)
  // Standard base64 of this URL has '/', '+' and '=' padding; the id must have none.
  const url = 'http://login.example.net/a?b=c&d=é>>>?'
  const id = virustotalUrlId(url)
  t.match(Buffer.from(url).toString('base64'), /[+/=]/)
  fake.object(`/urls/${id}`, vtBody('url-suspicious'))
  const f = await source.lookup(ind('URL', url), ctx())
  t.equal(f.verdict, 'suspicious')
  t.equal(f.score, 15)
  const path = fake.vendor.requests[0]?.path ?? ''
  t.equal(path, `${API_PREFIX}/urls/${id}`)
  t.notMatch(path.slice(`${API_PREFIX}/urls/`.length), /[+/=%]/)
  t.equal(Buffer.from(path.split('/').pop() ?? '', 'base64url').toString('utf8'), url)
})

t.test('not found: 404 NotFoundError is an unknown finding, not a failure', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const f = await source.lookup(ind('Address', '192.0.2.200'), ctx())
  t.equal(f.verdict, 'unknown')
  t.equal(f.score, null)
  t.equal(f.facts['found'], false)
  t.same(f.raw, vtBody('not-found'))
  t.equal(fake.vendor.requests.length, 1, 'a 404 answer is not retried')
})

t.test('the request param key overrides the env key', async (t) => {
  const { fake, source, ctx } = await setup(t, { VIRUSTOTAL_API_KEY: 'stale-env-key' })
  fake.object('/ip_addresses/198.51.100.23', vtBody('ip-malicious'))
  const f = await source.lookup(ind('Address', '198.51.100.23'), ctx({ apiKey: GOOD_KEY }))
  t.equal(f.verdict, 'malicious')
  t.equal(fake.vendor.requests[0]?.headers['x-apikey'], GOOD_KEY)
})

t.test('wrong key: 401 WrongCredentialsError -> auth failure', async (t) => {
  const { fake, source, ctx } = await setup(t, { VIRUSTOTAL_API_KEY: 'wrong-key' })
  const err = await source.lookup(ind('Address', '198.51.100.23'), ctx()).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.type(err, SourceError)
  t.match(err, { name: 'SourceError', kind: 'auth', skipped: false, message: /rejected the API key \(HTTP 401\)/ })
  t.notMatch((err as Error).message, /wrong-key/, 'the key itself is never in the message')
  t.equal(fake.vendor.requests.length, 1, 'auth failures are not retried')
})

t.test('403 is an auth failure too', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.next({
    status: 403,
    json: { error: { code: 'ForbiddenError', message: 'You are not allowed to perform the requested operation' } },
  })
  await t.rejects(source.lookup(ind('Host', 'example.com'), ctx()), { name: 'SourceError', kind: 'auth' })
})

t.test('missing key: skipped as not_configured without calling out', async (t) => {
  const { fake, source, ctx } = await setup(t, { VIRUSTOTAL_API_KEY: '' })
  t.match(source.health(), { state: 'not_configured', detail: /VIRUSTOTAL_API_KEY.*virustotal_api_key/ })
  await t.rejects(source.lookup(ind('Address', '198.51.100.23'), ctx()), {
    name: 'SourceError',
    kind: 'not_configured',
    skipped: true,
    message: /VIRUSTOTAL_API_KEY/,
  })
  t.equal(fake.vendor.requests.length, 0)
})

t.test('health is ready when the env key is set', async (t) => {
  const { source } = await setup(t)
  t.same(source.health(), { state: 'ready', detail: 'API key set' })
})

t.test('429 QuotaExceededError with Retry-After: retried, then answered', async (t) => {
  const { fake, source, ctx, metrics } = await setup(t)
  fake.object('/domains/example.com', vtBody('domain-benign'))
  fake.next({ status: 429, headers: { 'retry-after': '1' }, json: vtBody('quota-exceeded') })
  const f = await source.lookup(ind('Host', 'example.com'), ctx())
  t.equal(f.verdict, 'benign')
  const [first, second] = fake.vendor.requests
  t.equal(fake.vendor.requests.length, 2)
  t.ok(first && second && second.arrivedAt - first.arrivedAt >= 900, 'waited about the Retry-After second')
  t.equal(await metrics.get(SOURCE_REQUESTS_TOTAL, { source: 'virustotal' }), 2)
})

t.test('400 InvalidArgumentError -> bad_answer quoting the vendor', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.next({ status: 400, json: vtBody('invalid-argument') })
  await t.rejects(source.lookup(ind('Host', 'bad.example'), ctx()), {
    kind: 'bad_answer',
    message: /InvalidArgumentError: Invalid domain/,
  })
})

t.test('an error body with 200 -> bad_answer', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.next({ status: 200, json: vtBody('quota-exceeded') })
  await t.rejects(source.lookup(ind('Host', 'example.com'), ctx()), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /QuotaExceededError/,
  })
})

t.test('a wrong base URL (404 without NotFoundError) -> bad_answer', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.next({ status: 404, headers: { 'content-type': 'text/html' }, body: '<html>Not Found</html>' })
  await t.rejects(source.lookup(ind('Host', 'example.com'), ctx()), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /base URL/,
  })
})

t.test('definition', async (t) => {
  t.equal(virustotalSource.kind, 'vendor')
  t.same(virustotalSource.supports, ['Address', 'Host', 'URL', 'File'])
  t.same(virustotalSource.rateLimits, [
    { requests: 4, perMs: 60_000 },
    { requests: 500, perMs: 86_400_000 },
  ])
  t.same(
    virustotalSource.settings.map((s) => [s.env, s.default]),
    [
      ['VIRUSTOTAL_API_KEY', undefined],
      ['VIRUSTOTAL_BASE_URL', 'https://www.virustotal.com/api/v3'],
      ['VIRUSTOTAL_RATE_LIMIT', '4/1m, 500/1d'],
    ],
  )
})
