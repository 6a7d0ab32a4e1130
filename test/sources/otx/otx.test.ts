/** OTX through the real HTTP client against a fake OTX on 127.0.0.1. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { pino } from 'pino'
import { loadServiceConfig } from '../../../src/config/env.js'
import { SourceError } from '../../../src/errors.js'
import { createHttpClientFactory } from '../../../src/http/client.js'
import type { Indicator, IndicatorType } from '../../../src/indicators/types.js'
import { Metrics } from '../../../src/metrics.js'
import type { LookupContext, SourceInstance } from '../../../src/sources/types.js'
import { otxSource } from '../../../src/sources/otx.js'
import { OTX_GENERAL_PATH, OTX_TEST_KEY, startFakeOtx } from './fake-otx.js'

const body = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./bodies/${name}.json`, import.meta.url), 'utf8'))
const ind = (type: IndicatorType, value: string): Indicator => ({ input: value, value, type })

const ODD_URL = 'http://bad.example.net/a b?x=1&y=%2F#frag'
const known = {
  'IPv4/198.51.100.23': body('ipv4-pulses'),
  'domain/google.com': body('domain-validated'),
  'hostname/www.quiet.example.org': body('hostname-none'),
  [`url/${ODD_URL}`]: body('url-one-pulse'),
}
const missing = ['IPv6/2001:db8::dead']

const log = pino({ level: 'silent' })

interface Teardown {
  teardown(fn: () => unknown): void
}

const setup = async (t: Teardown, env: Record<string, string> = { OTX_API_KEY: OTX_TEST_KEY }) => {
  const fake = await startFakeOtx(t, known, missing)
  const config = loadServiceConfig({ OTX_BASE_URL: fake.url, ...env }, [otxSource])
  const http = createHttpClientFactory({ config, log, metrics: new Metrics(), userAgent: 'tc-enrich-test' })
  const source: SourceInstance = await otxSource.start(config, { log, http })
  t.teardown(() => source.close?.())
  const ctx = (settings: Record<string, string | undefined> = config.sources['otx'] ?? {}): LookupContext => ({
    signal: new AbortController().signal,
    log,
    forceRefresh: false,
    deadlineAt: Date.now() + 60_000,
    keyPrint: 'test',
    settings,
  })
  return { fake, source, ctx, config }
}

t.test('IPv4 in 4 pulses: malicious; GET with X-OTX-API-KEY', async (t) => {
  const { fake, source, ctx } = await setup(t)
  t.equal(source.health().state, 'ready')
  const f = await source.lookup(ind('Address', '198.51.100.23'), ctx())
  t.equal(f.verdict, 'malicious')
  t.same(f.facts['malware_families'], ['Cobalt Strike', 'BazarLoader'])
  const [req] = fake.vendor.requests
  t.equal(req?.method, 'GET')
  t.equal(req?.path, '/api/v1/indicators/IPv4/198.51.100.23/general')
  t.equal(req?.headers['x-otx-api-key'], OTX_TEST_KEY)
})

t.test('URL: one pulse is suspicious; the value is percent-encoded into one path segment', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const f = await source.lookup(ind('URL', ODD_URL), ctx())
  t.equal(f.verdict, 'suspicious')
  t.same(f.facts['pulse_names'], ['Emotet distribution URLs'])
  t.equal(
    fake.vendor.requests[0]?.url,
    '/api/v1/indicators/url/http%3A%2F%2Fbad.example.net%2Fa%20b%3Fx%3D1%26y%3D%252F%23frag/general',
  )
})

t.test('registrable domain goes to the domain section, and validation makes it benign', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const f = await source.lookup(ind('Host', 'google.com'), ctx())
  t.equal(f.verdict, 'benign')
  t.equal(fake.vendor.requests[0]?.path, '/api/v1/indicators/domain/google.com/general')
})

t.test('a name below the registrable domain goes to hostname; count 0 is unknown', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const f = await source.lookup(ind('Host', 'www.quiet.example.org'), ctx())
  t.equal(f.verdict, 'unknown')
  t.equal(f.facts['pulse_count'], 0)
  t.equal(fake.vendor.requests[0]?.path, '/api/v1/indicators/hostname/www.quiet.example.org/general')
})

t.test('IPv6 and file sections; a 404 is unknown, not a failure', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const f = await source.lookup(ind('Address', '2001:db8::dead'), ctx())
  t.equal(f.verdict, 'unknown')
  t.equal(f.score, null)
  const hash = 'd'.repeat(64)
  t.equal((await source.lookup(ind('File', hash), ctx())).verdict, 'unknown')
  t.same(
    fake.vendor.requests.map((r) => r.path),
    ['/api/v1/indicators/IPv6/2001%3Adb8%3A%3Adead/general', `/api/v1/indicators/file/${hash}/general`],
  )
})

t.test('wrong key (403) is an auth failure', async (t) => {
  const { source, ctx } = await setup(t, { OTX_API_KEY: 'wrong' })
  const err = await source.lookup(ind('Address', '198.51.100.23'), ctx()).catch((e: unknown) => e)
  t.type(err, SourceError)
  t.equal((err as SourceError).kind, 'auth')
})

t.test('missing key: not_configured, skipped, nothing sent', async (t) => {
  const { fake, source, ctx } = await setup(t, {})
  t.equal(source.health().state, 'not_configured')
  t.match(source.health().detail, /OTX_API_KEY/)
  await t.rejects(source.lookup(ind('Address', '198.51.100.23'), ctx()), {
    name: 'SourceError',
    kind: 'not_configured',
    skipped: true,
  })
  t.equal(fake.vendor.requests.length, 0)
})

t.test("a 200 that is not OTX's shape is a bad answer", async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.vendor.route('GET', OTX_GENERAL_PATH, { json: { detail: 'maintenance' } })
  await t.rejects(source.lookup(ind('Address', '198.51.100.23'), ctx()), { name: 'SourceError', kind: 'bad_answer' })
})

t.test('429 with Retry-After is retried, then answered', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.vendor.route(
    'GET',
    OTX_GENERAL_PATH,
    { status: 429, headers: { 'retry-after': '1' }, json: { detail: 'Throttled' } },
    fake.handler,
  )
  const f = await source.lookup(ind('Address', '198.51.100.23'), ctx())
  t.equal(f.verdict, 'malicious')
  t.equal(fake.vendor.requests.length, 2)
  const gap = (fake.vendor.requests[1]?.arrivedAt ?? 0) - (fake.vendor.requests[0]?.arrivedAt ?? 0)
  t.ok(gap >= 900, `waited for Retry-After (${Math.round(gap)} ms)`)
})
