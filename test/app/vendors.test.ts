/**
 * /run with vendor sources against their fakes on 127.0.0.1: cache, force_refresh, key changes, failures, shared
 * limits.
 */
import t from 'tap'
import { GOOD_KEY, startFakeVirustotal, vtBody } from '../sources/virustotal/fake-virustotal.js'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { startApp } from '../helpers/app.js'
import { runReply, type RunReply } from '../helpers/run-reply.js'

interface SourceResult {
  source: string
  status: string
  cached?: boolean
  ageMs?: number
  reason?: string
}
const sourcesOf = (reply: RunReply): SourceResult[] =>
  (JSON.parse(String(reply.outputs['enrich.results.json'])) as { sources: SourceResult[] }).sources

t.test(
  "a vendor answer is cached per indicator and key; force_refresh asks again; another key's request empties nothing",
  async (t) => {
    const vt = await startFakeVirustotal(t)
    vt.object('/ip_addresses/198.51.100.23', vtBody('ip-malicious'))
    const { app } = await startApp(t, {
      VIRUSTOTAL_BASE_URL: vt.baseUrl,
      VIRUSTOTAL_API_KEY: GOOD_KEY,
      VIRUSTOTAL_RATE_LIMIT: '100/1s',
    })
    const run = async (extra: Record<string, unknown> = {}): Promise<RunReply> =>
      runReply(
        await app.inject({
          method: 'POST',
          url: '/run',
          payload: { indicator: '198.51.100.23', sources: 'virustotal', ...extra },
        }),
      )
    const calls = (): number => vt.vendor.requests.length

    const first = await run()
    t.equal(first.outputs['enrich.results.verdict'], 'malicious')
    t.equal(first.outputs['enrich.results.virustotal.malicious'], '12')
    t.equal(sourcesOf(first)[0]?.cached, false)
    t.equal(calls(), 1)

    const second = await run()
    t.equal(calls(), 1, 'answered from the cache')
    t.equal(sourcesOf(second)[0]?.cached, true)
    t.ok((sourcesOf(second)[0]?.ageMs ?? -1) >= 0, 'the cached result says its age')
    t.match(second.outputs['enrich.results.note'], /cached \d+ s ago/)

    await run({ force_refresh: true })
    t.equal(calls(), 2, 'force_refresh bypasses the cache')

    const wrongKey = await run({ virustotal_api_key: 'another-key' })
    t.equal(calls(), 3, "a different key is not answered from the old key's cache")
    t.match(wrongKey.outputs['enrich.results.sources.failed'], [/^virustotal: auth - /])
    t.equal(wrongKey.exitCode, 1, 'the only selected source failed')
    const back = await run()
    t.equal(calls(), 3, "back to the service's key: still answered from its cache (another key emptied nothing)")
    t.equal(sourcesOf(back)[0]?.cached, true)

    const metrics = (await app.inject({ url: '/metrics' })).body
    t.match(metrics, /enrich_source_cache_hits_total\{source="virustotal"\} 2/)
    t.match(metrics, /enrich_source_requests_total\{source="virustotal"\} 3/)
  },
)

t.test('one source failing never fails the run: every source is listed with its reason', async (t) => {
  const vt = await startFakeVirustotal(t)
  vt.next({ status: 503 }, { status: 503 }, { status: 503 })
  const { app } = await startApp(t, {
    VIRUSTOTAL_BASE_URL: vt.baseUrl,
    VIRUSTOTAL_API_KEY: GOOD_KEY,
    VIRUSTOTAL_RATE_LIMIT: '100/1s',
  })
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: '8.8.8.8', sources: ['watchlist', 'virustotal', 'abuseipdb', 'urlhaus'] },
  })
  t.equal(res.statusCode, 200)
  const reply = runReply(res)
  t.equal(reply.exitCode, 0, 'the watchlist answered')
  t.same(reply.outputs['enrich.results.sources.ok'], ['watchlist'])
  t.match(reply.outputs['enrich.results.sources.failed'], [/^virustotal: http error - .*503/])
  t.match(reply.outputs['enrich.results.sources.skipped'], [
    /^abuseipdb: not configured - no API key: set ABUSEIPDB_API_KEY/,
    /^urlhaus: does not support Address/,
  ])
  t.match(reply.exitMessage, /sources 1 ok, 1 failed, 2 skipped \(failed: virustotal\)/)
})

t.test('concurrent /run calls share one limiter: the fake never sees more than the limit', async (t) => {
  const fake = await startFakeVendor(t)
  fake.route('GET', /^\/[^/]+$/, { json: { cpes: [], hostnames: [], ip: 'x', ports: [443], tags: [], vulns: [] } })
  const { app } = await startApp(t, { INTERNETDB_BASE_URL: fake.url, INTERNETDB_RATE_LIMIT: '3/500ms' })
  const ips = Array.from({ length: 9 }, (_, i) => `198.51.100.${i + 1}`)
  const replies = await Promise.all(
    ips.map((ip) =>
      app.inject({
        method: 'POST',
        url: '/run',
        payload: { indicator: ip, sources: 'internetdb', force_refresh: true },
      }),
    ),
  )
  for (const r of replies)
    t.same(runReply(r).outputs['enrich.results.sources.ok'], ['internetdb'], 'queued, not failed')
  const times = fake.requests.map((r) => r.arrivedAt).sort((a, b) => a - b)
  t.equal(times.length, 9)
  for (let i = 3; i < times.length; i++) {
    t.ok((times[i] ?? 0) - (times[i - 3] ?? 0) >= 490, `call ${i + 1} came at least 500 ms after call ${i - 2}`)
  }
})

t.test(
  'a 200 JSON answer without what the source needs is a bad_answer naming the field, never an ok "unknown"',
  async (t) => {
    // Each vendor's top-level keys are there, nested deep, but none of the fields its verdict is made of.
    const hollow = { deep: { deeper: { deepest: { nothing: true } } } }
    const fake = await startFakeVendor(t)
    fake.route('GET', /^\/ip_addresses\//, { json: { data: { id: '198.51.100.9', attributes: hollow } } })
    fake.route('POST', '/api/v1/', { json: { query_status: 'ok', data: [hollow] } })
    fake.route('POST', '/v1/host/', { json: { query_status: 'ok', ...hollow } })
    const { app } = await startApp(t, {
      VIRUSTOTAL_BASE_URL: fake.url,
      VIRUSTOTAL_API_KEY: 'vt-key',
      THREATFOX_BASE_URL: fake.url,
      THREATFOX_API_KEY: 'tf-key',
      URLHAUS_BASE_URL: fake.url,
      URLHAUS_API_KEY: 'uh-key',
    })
    const address = runReply(
      await app.inject({
        method: 'POST',
        url: '/run',
        payload: { indicator: '198.51.100.9', sources: ['virustotal', 'threatfox'] },
      }),
    )
    t.match(address.outputs['enrich.results.sources.failed'], [
      /^virustotal: bad answer - VirusTotal answered 200 out of shape: .*last_analysis_stats/,
      /^threatfox: bad answer - .*ioc/,
    ])
    t.same(address.outputs['enrich.results.sources.ok'], [])
    const host = runReply(
      await app.inject({ method: 'POST', url: '/run', payload: { indicator: 'bad.example', sources: 'urlhaus' } }),
    )
    t.match(host.outputs['enrich.results.sources.failed'], [/^urlhaus: bad answer - .*urls/])
  },
)

t.test('a File sent as its ThreatConnect summary is looked up by the hash each source takes', async (t) => {
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e'
  const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709'
  const fake = await startFakeVendor(t)
  fake.route('GET', /^\/files\//, { status: 404, json: { error: { code: 'NotFoundError', message: 'not found' } } })
  fake.route('POST', '/v1/payload/', { json: { query_status: 'no_results' } })
  const { app } = await startApp(t, {
    VIRUSTOTAL_BASE_URL: fake.url,
    VIRUSTOTAL_API_KEY: 'vt-key',
    URLHAUS_BASE_URL: fake.url,
    URLHAUS_API_KEY: 'uh-key',
  })
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: `${md5} : ${sha1}`, sources: ['virustotal', 'urlhaus'] },
  })
  t.equal(res.statusCode, 200)
  const reply = runReply(res)
  t.equal(reply.outputs['enrich.results.indicator_type'], 'File')
  t.same(reply.outputs['enrich.results.sources.ok'], ['virustotal', 'urlhaus'])
  t.equal(fake.requestsTo(`/files/${sha1}`).length, 1, 'VirusTotal takes the stronger sha1')
  t.match(
    fake.requestsTo('/v1/payload/')[0]?.body,
    `md5_hash=${md5}`,
    'URLhaus takes only md5 or sha256: it gets the md5',
  )
})
