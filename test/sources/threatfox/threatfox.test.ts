/** ThreatFox through the real HTTP client against a fake ThreatFox on 127.0.0.1. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { pino } from 'pino'
import { loadServiceConfig } from '../../../src/config/env.js'
import { SourceError } from '../../../src/errors.js'
import { createHttpClientFactory } from '../../../src/http/client.js'
import type { Indicator, IndicatorType } from '../../../src/indicators/types.js'
import { Metrics } from '../../../src/metrics.js'
import type { LookupContext, SourceInstance } from '../../../src/sources/types.js'
import { threatfoxSource } from '../../../src/sources/threatfox.js'
import { THREATFOX_PATH, THREATFOX_TEST_KEY, startFakeThreatfox } from './fake-threatfox.js'

const body = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./bodies/${name}.json`, import.meta.url), 'utf8'))
const ind = (type: IndicatorType, value: string): Indicator => ({ input: value, value, type })

// Keys are what ThreatFox stores; the fake answers a search term with the first key it prefixes.
const known = {
  '198.51.100.23:443': body('ip-hit'),
  'update-check.example.com': body('domain-low-confidence'),
}

const log = pino({ level: 'silent' })

interface Teardown {
  teardown(fn: () => unknown): void
}

const setup = async (t: Teardown, env: Record<string, string> = { THREATFOX_API_KEY: THREATFOX_TEST_KEY }) => {
  const fake = await startFakeThreatfox(t, known)
  const config = loadServiceConfig({ THREATFOX_BASE_URL: fake.url, ...env }, [threatfoxSource])
  const http = createHttpClientFactory({ config, log, metrics: new Metrics(), userAgent: 'tc-enrich-test' })
  const source: SourceInstance = await threatfoxSource.start(config, { log, http })
  t.teardown(() => source.close?.())
  const ctx = (settings: Record<string, string | undefined> = config.sources['threatfox'] ?? {}): LookupContext => ({
    signal: new AbortController().signal,
    log,
    forceRefresh: false,
    deadlineAt: Date.now() + 60_000,
    keyPrint: 'test',
    settings,
  })
  return { fake, source, ctx, config }
}

t.test('IP stored as ip:port: malicious; JSON POST to /api/v1/ with Auth-Key', async (t) => {
  const { fake, source, ctx } = await setup(t)
  t.equal(source.health().state, 'ready')
  const f = await source.lookup(ind('Address', '198.51.100.23'), ctx())
  t.equal(f.verdict, 'malicious')
  t.equal(f.facts['ioc_count'], 2, 'the neighbour 198.51.100.230:80 is not counted')
  t.equal(f.facts['malware'], 'Cobalt Strike')
  const [req] = fake.vendor.requestsTo(THREATFOX_PATH, 'POST')
  t.equal(req?.headers['auth-key'], THREATFOX_TEST_KEY)
  t.match(String(req?.headers['content-type']), /^application\/json/)
  t.same(req?.json, { query: 'search_ioc', search_term: '198.51.100.23' })
})

t.test('low-confidence domain: suspicious', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const f = await source.lookup(ind('Host', 'update-check.example.com'), ctx())
  t.equal(f.verdict, 'suspicious')
  t.equal(f.facts['confidence'], 50)
  t.same(fake.vendor.requests[0]?.json, { query: 'search_ioc', search_term: 'update-check.example.com' })
})

t.test('URL search term is sent as is in the JSON', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const url = 'http://x.example/a b?q="1"&r=%2F'
  const f = await source.lookup(ind('URL', url), ctx())
  t.equal(f.verdict, 'unknown')
  t.same(fake.vendor.requests[0]?.json, { query: 'search_ioc', search_term: url })
})

t.test('miss: no_result with a string data is unknown', async (t) => {
  const { source, ctx } = await setup(t)
  const f = await source.lookup(ind('File', 'c'.repeat(64)), ctx())
  t.equal(f.verdict, 'unknown')
  t.equal(f.facts['ioc_count'], 0)
})

t.test('vendor error in a 200 (illegal_search_term) is a bad answer', async (t) => {
  const { source, ctx } = await setup(t)
  await t.rejects(source.lookup(ind('Host', 'ab'), ctx()), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /illegal_search_term/,
  })
})

t.test('wrong key (401) is an auth failure', async (t) => {
  const { source, ctx } = await setup(t, { THREATFOX_API_KEY: 'wrong' })
  const err = await source.lookup(ind('Host', 'update-check.example.com'), ctx()).catch((e: unknown) => e)
  t.type(err, SourceError)
  t.equal((err as SourceError).kind, 'auth')
})

t.test('missing key: not_configured, skipped, nothing sent', async (t) => {
  const { fake, source, ctx } = await setup(t, {})
  t.equal(source.health().state, 'not_configured')
  t.match(source.health().detail, /THREATFOX_API_KEY/)
  await t.rejects(source.lookup(ind('Host', 'update-check.example.com'), ctx()), {
    name: 'SourceError',
    kind: 'not_configured',
    skipped: true,
  })
  t.equal(fake.vendor.requests.length, 0)
})

t.test('429 with Retry-After is retried, then answered', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.vendor.route(
    'POST',
    THREATFOX_PATH,
    { status: 429, headers: { 'retry-after': '1' }, json: { query_status: 'rate_limited' } },
    fake.handler,
  )
  const f = await source.lookup(ind('Host', 'update-check.example.com'), ctx())
  t.equal(f.verdict, 'suspicious')
  const reqs = fake.vendor.requestsTo(THREATFOX_PATH)
  t.equal(reqs.length, 2)
  const gap = (reqs[1]?.arrivedAt ?? 0) - (reqs[0]?.arrivedAt ?? 0)
  t.ok(gap >= 900, `waited for Retry-After (${Math.round(gap)} ms)`)
})
