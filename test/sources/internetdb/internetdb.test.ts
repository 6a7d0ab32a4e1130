import t from 'tap'
import { pino } from 'pino'
import { loadServiceConfig } from '../../../src/config/env.js'
import { createHttpClientFactory } from '../../../src/http/client.js'
import type { Indicator } from '../../../src/indicators/types.js'
import { Metrics, SOURCE_REQUESTS_TOTAL, SOURCE_THROTTLED_WAITS_TOTAL } from '../../../src/metrics.js'
import { internetdbSource } from '../../../src/sources/internetdb.js'
import type { LookupContext } from '../../../src/sources/types.js'
import { idbBody, startFakeInternetdb } from './fake-internetdb.js'

const ip = (value: string): Indicator => ({ input: value, value, type: 'Address' })
const log = pino({ level: 'silent' })

const setup = async (t: { teardown(fn: () => unknown): void }, env: Record<string, string> = {}) => {
  const fake = await startFakeInternetdb(t)
  const config = loadServiceConfig({ INTERNETDB_BASE_URL: fake.baseUrl, ...env }, [internetdbSource])
  const metrics = new Metrics()
  const http = createHttpClientFactory({ config, log, metrics, userAgent: 'tc-enrich-test/1.0' })
  const source = await internetdbSource.start(config, { log, http })
  t.teardown(() => source.close?.())
  const ctx = (): LookupContext => ({
    signal: new AbortController().signal,
    log,
    forceRefresh: false,
    deadlineAt: Date.now() + 60_000,
    keyPrint: 'test',
    settings: { ...config.sources['internetdb'] },
  })
  return { fake, source, ctx, metrics }
}

t.test('a known host: request shape and context finding', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.address('198.51.100.23', idbBody('host'))
  const f = await source.lookup(ip('198.51.100.23'), ctx())
  t.equal(f.verdict, 'unknown', 'context only, never a verdict')
  t.equal(f.score, null)
  t.same(f.facts['ports'], ['22', '80', '443', '8080', '8443', '9000'])
  t.same(f.facts['vulns'], ['CVE-2021-23017', 'CVE-2023-44487'])
  t.ok(f.tags.includes('vulns'))
  const req = fake.vendor.requests[0]
  t.equal(fake.vendor.requests.length, 1)
  t.equal(req?.method, 'GET')
  t.equal(req?.path, '/198.51.100.23')
  t.same(
    Object.keys(req?.headers ?? {}).filter((h) => /key|auth|token/i.test(h)),
    [],
    'no key or auth header is sent',
  )
})

t.test('not found: 404 {"detail":"No information available"} is an unknown finding', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const f = await source.lookup(ip('2001:db8::7'), ctx())
  t.equal(f.verdict, 'unknown')
  t.same(f.facts, { found: false })
  t.same(f.raw, idbBody('not-found'))
  t.equal(fake.vendor.requests[0]?.path, '/2001:db8::7')
  t.equal(fake.vendor.requests.length, 1, 'a 404 answer is not retried')
})

t.test('no key needed: health is ready', async (t) => {
  const { source } = await setup(t)
  t.same(source.health(), { state: 'ready', detail: 'no key needed' })
  t.notOk(internetdbSource.settings.some((s) => s.key === 'apiKey'))
})

t.test('self-throttles to one call a second by default', async (t) => {
  const { fake, source, ctx, metrics } = await setup(t)
  await source.lookup(ip('192.0.2.1'), ctx())
  await source.lookup(ip('192.0.2.2'), ctx())
  const [first, second] = fake.vendor.requests
  t.ok(first && second && second.arrivedAt - first.arrivedAt >= 900, 'the second call waited for its token')
  t.equal(await metrics.get(SOURCE_THROTTLED_WAITS_TOTAL, { source: 'internetdb' }), 1)
})

t.test('429 with Retry-After: retried, then answered', async (t) => {
  const { fake, source, ctx, metrics } = await setup(t, { INTERNETDB_RATE_LIMIT: '100/1s' })
  fake.address('198.51.100.23', idbBody('host'))
  fake.next({ status: 429, headers: { 'retry-after': '1' }, json: { detail: 'Too Many Requests' } })
  const f = await source.lookup(ip('198.51.100.23'), ctx())
  t.equal(f.facts['found'], true)
  const [first, second] = fake.vendor.requests
  t.equal(fake.vendor.requests.length, 2)
  t.ok(first && second && second.arrivedAt - first.arrivedAt >= 900, 'waited about the Retry-After second')
  t.equal(await metrics.get(SOURCE_REQUESTS_TOTAL, { source: 'internetdb' }), 2)
})

t.test('a vendor error body with 200 -> bad_answer quoting it', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.next({ status: 200, json: { detail: 'Invalid IP address' } })
  await t.rejects(source.lookup(ip('198.51.100.23'), ctx()), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /Invalid IP address/,
  })
})

t.test('401/403 (e.g. a proxy in front) -> auth failure', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.next({ status: 403, json: { detail: 'Forbidden' } })
  await t.rejects(source.lookup(ip('198.51.100.23'), ctx()), { name: 'SourceError', kind: 'auth' })
})

t.test('definition', async (t) => {
  t.same(internetdbSource.rateLimits, [{ requests: 1, perMs: 1000 }])
  t.same(
    internetdbSource.settings.map((s) => [s.env, s.default]),
    [
      ['INTERNETDB_BASE_URL', 'https://internetdb.shodan.io'],
      ['INTERNETDB_RATE_LIMIT', '1/1s'],
    ],
  )
})
