import t from 'tap'
import { readFileSync } from 'node:fs'
import type { Indicator, IndicatorType } from '../../../src/indicators/types.js'
import {
  OTX_MALICIOUS_PULSE_COUNT,
  OTX_MAX_LISTED,
  otxPathOf,
  otxScoreOf,
  otxSectionOf,
  otxSource,
  toOtxFinding,
} from '../../../src/sources/otx.js'

const body = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./bodies/${name}.json`, import.meta.url), 'utf8'))
const ind = (type: IndicatorType, value: string): Indicator => ({ input: value, value, type })
const withCount = (count: number, validation: unknown[] = []) => ({
  pulse_info: {
    count,
    pulses: Array.from({ length: count }, (_, i) => ({ name: `p${i}`, tags: [], malware_families: [] })),
  },
  validation,
})

t.test('definition', async (t) => {
  t.same(otxSource.supports, ['Address', 'Host', 'URL', 'File'])
  t.same(
    otxSource.settings.map((s) => s.env),
    ['OTX_API_KEY', 'OTX_BASE_URL', 'OTX_RATE_LIMIT'],
  )
  t.equal(otxSource.settings.find((s) => s.key === 'apiKey')?.param, 'otx_api_key')
})

t.test('sections', async (t) => {
  t.equal(otxSectionOf(ind('Address', '198.51.100.23')), 'IPv4')
  t.equal(otxSectionOf(ind('Address', '2001:db8::1')), 'IPv6')
  t.equal(otxSectionOf(ind('Host', 'example.com')), 'domain')
  t.equal(otxSectionOf(ind('Host', 'example.co.uk')), 'domain', 'registrable under a multi-label suffix')
  t.equal(otxSectionOf(ind('Host', 'www.example.co.uk')), 'hostname')
  t.equal(otxSectionOf(ind('Host', 'a.b.example.com')), 'hostname')
  t.equal(otxSectionOf(ind('Host', 'localhost')), 'hostname', 'no registrable domain at all')
  t.equal(otxSectionOf(ind('URL', 'http://x.example/')), 'url')
  t.equal(otxSectionOf(ind('File', 'a'.repeat(64))), 'file')
  t.throws(() => otxSectionOf(ind('ASN', 'AS1')), { name: 'SourceError', kind: 'internal' })
})

t.test('paths percent-encode the value', async (t) => {
  t.equal(otxPathOf(ind('Address', '2001:db8::1')), '/api/v1/indicators/IPv6/2001%3Adb8%3A%3A1/general')
  t.equal(
    otxPathOf(ind('URL', 'http://bad.example.net/a b?x=1&y=%2F#frag')),
    '/api/v1/indicators/url/http%3A%2F%2Fbad.example.net%2Fa%20b%3Fx%3D1%26y%3D%252F%23frag/general',
  )
  t.equal(
    otxPathOf(ind('File', 'ABCDEF0123456789ABCDEF0123456789')),
    '/api/v1/indicators/file/abcdef0123456789abcdef0123456789/general',
  )
})

t.test('pulse count thresholds', async (t) => {
  t.equal(OTX_MALICIOUS_PULSE_COUNT, 3)
  const v = (n: number) => toOtxFinding(ind('Host', 'x.example'), withCount(n)).verdict
  t.equal(v(0), 'unknown')
  t.equal(v(1), 'suspicious')
  t.equal(v(2), 'suspicious')
  t.equal(v(3), 'malicious')
  t.equal(v(40), 'malicious')
  t.equal(otxScoreOf(1), 25)
  t.equal(otxScoreOf(3), 75)
  t.equal(otxScoreOf(9), 100)
  t.equal(toOtxFinding(ind('Host', 'x.example'), withCount(0)).score, null, 'unknown has no score')
})

t.test('IPv4 in 4 pulses', async (t) => {
  const f = toOtxFinding(ind('Address', '198.51.100.23'), body('ipv4-pulses'))
  t.equal(f.verdict, 'malicious')
  t.equal(f.score, 100)
  t.same(f.facts, {
    pulse_count: 4,
    reputation: 2,
    malware_families: ['Cobalt Strike', 'BazarLoader'],
    pulse_names: ['Cobalt Strike C2 feed', 'Daily botnet C2', 'Ransomware precursors', 'Scanner IPs'],
    tags: ['cobalt strike', 'c2', 'botnet', 'scanner'],
    validation: [],
    reference: 'https://otx.alienvault.com/indicator/ip/198.51.100.23',
  })
  t.match(f.summary, /in 4 pulses \(Cobalt Strike, BazarLoader\)/)
})

t.test('validation wins: benign even with pulses', async (t) => {
  const f = toOtxFinding(ind('Host', 'google.com'), body('domain-validated'))
  t.equal(f.verdict, 'benign')
  t.equal(f.score, 0)
  t.same(f.facts['validation'], ['Whitelisted ad network domain', 'Akamai Popular Domain', 'Whitelisted domain'])
  t.equal(f.facts['pulse_count'], 2)
  t.match(f.summary, /allow-listed/)
})

t.test('count 0 is unknown, 404 is unknown', async (t) => {
  const zero = toOtxFinding(ind('Host', 'www.quiet.example.org'), body('hostname-none'))
  t.equal(zero.verdict, 'unknown')
  t.equal(zero.facts['pulse_count'], 0)
  t.equal(zero.facts['reputation'], null)
  const missing = toOtxFinding(ind('Host', 'www.quiet.example.org'), body('not-found'), 404)
  t.equal(missing.verdict, 'unknown')
  t.equal(missing.score, null)
  t.equal(missing.facts['reference'], 'https://otx.alienvault.com/indicator/hostname/www.quiet.example.org')
})

t.test('long lists are capped', async (t) => {
  const many = withCount(OTX_MAX_LISTED + 10)
  const f = toOtxFinding(ind('Host', 'x.example'), many)
  t.equal((f.facts['pulse_names'] as string[]).length, OTX_MAX_LISTED)
  t.equal(f.facts['pulse_count'], OTX_MAX_LISTED + 10)
})

t.test('a body without pulse_info.count is a bad answer', async (t) => {
  t.throws(() => toOtxFinding(ind('Host', 'x.example'), { detail: 'x' }), { name: 'SourceError', kind: 'bad_answer' })
  t.throws(() => toOtxFinding(ind('Host', 'x.example'), undefined), { name: 'SourceError', kind: 'bad_answer' })
})
