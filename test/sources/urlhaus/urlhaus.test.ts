/** URLhaus through the real HTTP client against a fake URLhaus on 127.0.0.1. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { pino } from 'pino'
import { loadServiceConfig } from '../../../src/config/env.js'
import { SourceError } from '../../../src/errors.js'
import { createHttpClientFactory } from '../../../src/http/client.js'
import type { Indicator, IndicatorType } from '../../../src/indicators/types.js'
import { Metrics } from '../../../src/metrics.js'
import type { LookupContext, SourceInstance } from '../../../src/sources/types.js'
import { urlhausSource } from '../../../src/sources/urlhaus.js'
import { URLHAUS_PATHS, URLHAUS_TEST_KEY, startFakeUrlhaus, type UrlhausKnown } from './fake-urlhaus.js'

const body = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./bodies/${name}.json`, import.meta.url), 'utf8'))
const ind = (type: IndicatorType, value: string): Indicator => ({ input: value, value, type })

const ONLINE_URL = 'http://203.0.113.7:41253/Mozi.m'
const OFFLINE_URL = 'https://bad.example.net/invoice.php?id=7&x=a b'
const MD5 = '2f9e6b2b6a7d0f1b9e3e2f2ff6d1b0c1'
const SHA256 = '0d4f8d1b2b0c6a0e1b7e3bdbe0e8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6'

const known: UrlhausKnown = {
  urls: { [ONLINE_URL]: body('url-online'), [OFFLINE_URL]: body('url-offline'), 'not a url': body('invalid-url') },
  hosts: { 'bad.example.net': body('host-ok') },
  payloads: { [MD5]: body('payload-ok'), [SHA256]: body('payload-ok') },
}

const log = pino({ level: 'silent' })

interface Teardown {
  teardown(fn: () => unknown): void
}

/** Starts the fake and the source pointed at it (URLHAUS_BASE_URL), with the key in env unless told otherwise. */
const setup = async (t: Teardown, env: Record<string, string> = { URLHAUS_API_KEY: URLHAUS_TEST_KEY }) => {
  const fake = await startFakeUrlhaus(t, known)
  const config = loadServiceConfig({ URLHAUS_BASE_URL: fake.url, ...env }, [urlhausSource])
  const http = createHttpClientFactory({ config, log, metrics: new Metrics(), userAgent: 'tc-enrich-test' })
  const source: SourceInstance = await urlhausSource.start(config, { log, http })
  t.teardown(() => source.close?.())
  const ctx = (settings: Record<string, string | undefined> = config.sources['urlhaus'] ?? {}): LookupContext => ({
    signal: new AbortController().signal,
    log,
    forceRefresh: false,
    deadlineAt: Date.now() + 60_000,
    keyPrint: 'test',
    settings,
  })
  return { fake, source, ctx, config }
}

t.test('online URL: malicious; form-encoded POST to /v1/url/ with Auth-Key', async (t) => {
  const { fake, source, ctx } = await setup(t)
  t.same(source.health().state, 'ready')
  const f = await source.lookup(ind('URL', ONLINE_URL), ctx())
  t.equal(f.verdict, 'malicious')
  t.equal(f.facts['status'], 'online')
  t.equal(f.facts['reference'], 'https://urlhaus.abuse.ch/url/2735101/')
  const [req] = fake.vendor.requestsTo(URLHAUS_PATHS.url, 'POST')
  t.ok(req, 'the fake got the request on the path with its trailing slash')
  t.equal(req?.headers['auth-key'], URLHAUS_TEST_KEY)
  t.match(String(req?.headers['content-type']), /^application\/x-www-form-urlencoded/)
  t.same(req?.form, { url: ONLINE_URL })
})

t.test('offline URL with spaces and & is form-encoded intact: suspicious', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const f = await source.lookup(ind('URL', OFFLINE_URL), ctx())
  t.equal(f.verdict, 'suspicious')
  const [req] = fake.vendor.requestsTo(URLHAUS_PATHS.url)
  t.match(req?.body, /^url=https%3A%2F%2Fbad\.example\.net%2Finvoice\.php%3Fid%3D7%26x%3Da(\+|%20)b$/)
})

t.test('host: malicious, url_count from a string', async (t) => {
  const { fake, source, ctx } = await setup(t)
  const f = await source.lookup(ind('Host', 'bad.example.net'), ctx())
  t.equal(f.verdict, 'malicious')
  t.equal(f.facts['url_count'], 3)
  t.same(fake.vendor.requestsTo(URLHAUS_PATHS.host)[0]?.form, { host: 'bad.example.net' })
})

t.test('payload by md5 and by sha256 use the matching form field', async (t) => {
  const { fake, source, ctx } = await setup(t)
  t.equal((await source.lookup(ind('File', MD5), ctx())).verdict, 'malicious')
  t.equal((await source.lookup(ind('File', SHA256.toUpperCase()), ctx())).verdict, 'malicious')
  t.same(
    fake.vendor.requestsTo(URLHAUS_PATHS.payload).map((r) => r.form),
    [{ md5_hash: MD5 }, { sha256_hash: SHA256 }],
  )
})

t.test('sha1 and sha512: unknown without calling URLhaus', async (t) => {
  const { fake, source, ctx } = await setup(t)
  for (const [kind, hash] of [
    ['sha1', 'a'.repeat(40)],
    ['sha512', 'b'.repeat(128)],
  ] as const) {
    const f = await source.lookup(ind('File', hash), ctx())
    t.equal(f.verdict, 'unknown')
    t.equal(f.facts['status'], 'not_searchable')
    t.match(f.summary, new RegExp(`cannot search a ${kind} hash`))
  }
  t.equal(fake.vendor.requests.length, 0)
})

t.test('miss: no_results is unknown', async (t) => {
  const { source, ctx } = await setup(t)
  const f = await source.lookup(ind('Host', 'clean.example.org'), ctx())
  t.equal(f.verdict, 'unknown')
  t.equal(f.facts['status'], 'not_listed')
})

t.test('vendor error in a 200 (invalid_url) is a bad answer', async (t) => {
  const { source, ctx } = await setup(t)
  await t.rejects(source.lookup(ind('URL', 'not a url'), ctx()), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /invalid_url/,
  })
})

t.test('wrong key (403) is an auth failure', async (t) => {
  const { source, ctx } = await setup(t, { URLHAUS_API_KEY: 'wrong' })
  const err = await source.lookup(ind('Host', 'bad.example.net'), ctx()).catch((e: unknown) => e)
  t.type(err, SourceError)
  t.equal((err as SourceError).kind, 'auth')
  t.equal((err as SourceError).skipped, false)
})

t.test('missing key: not_configured, skipped, nothing sent; the request param can supply one', async (t) => {
  const { fake, source, ctx, config } = await setup(t, {})
  t.equal(source.health().state, 'not_configured')
  t.match(source.health().detail, /URLHAUS_API_KEY/)
  await t.rejects(source.lookup(ind('Host', 'bad.example.net'), ctx()), {
    name: 'SourceError',
    kind: 'not_configured',
    skipped: true,
  })
  t.equal(fake.vendor.requests.length, 0)
  const f = await source.lookup(
    ind('Host', 'bad.example.net'),
    ctx({ ...config.sources['urlhaus'], apiKey: URLHAUS_TEST_KEY }),
  )
  t.equal(f.verdict, 'malicious')
})

t.test('429 with Retry-After is retried, then answered', async (t) => {
  const { fake, source, ctx } = await setup(t)
  fake.vendor.route(
    'POST',
    URLHAUS_PATHS.host,
    { status: 429, headers: { 'retry-after': '1' }, body: 'Too Many Requests' },
    fake.handlers.host,
  )
  const f = await source.lookup(ind('Host', 'bad.example.net'), ctx())
  t.equal(f.verdict, 'malicious')
  const reqs = fake.vendor.requestsTo(URLHAUS_PATHS.host)
  t.equal(reqs.length, 2)
  const gap = (reqs[1]?.arrivedAt ?? 0) - (reqs[0]?.arrivedAt ?? 0)
  t.ok(gap >= 900, `waited for Retry-After (${Math.round(gap)} ms)`)
})
