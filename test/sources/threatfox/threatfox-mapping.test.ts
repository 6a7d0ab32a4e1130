import t from 'tap'
import { readFileSync } from 'node:fs'
import type { Indicator, IndicatorType } from '../../../src/indicators/types.js'
import {
  THREATFOX_MALICIOUS_CONFIDENCE,
  isEntryForAddress,
  threatfoxSearchTerm,
  threatfoxSource,
  toThreatfoxFinding,
} from '../../../src/sources/threatfox.js'

const body = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./bodies/${name}.json`, import.meta.url), 'utf8'))
const ind = (type: IndicatorType, value: string): Indicator => ({ input: value, value, type })

t.test('definition', async (t) => {
  t.equal(threatfoxSource.kind, 'vendor')
  t.same(threatfoxSource.supports, ['Address', 'Host', 'URL', 'File'])
  t.same(
    threatfoxSource.settings.map((s) => s.env),
    ['THREATFOX_API_KEY', 'THREATFOX_BASE_URL', 'THREATFOX_RATE_LIMIT'],
  )
  t.equal(threatfoxSource.settings.find((s) => s.key === 'baseUrl')?.default, 'https://threatfox-api.abuse.ch')
})

t.test('address matching keeps only that exact IP', async (t) => {
  t.ok(isEntryForAddress('198.51.100.23', '198.51.100.23:443'))
  t.ok(isEntryForAddress('198.51.100.23', '198.51.100.23'))
  t.notOk(isEntryForAddress('198.51.100.23', '198.51.100.230:80'))
  t.notOk(isEntryForAddress('198.51.100.23', 'http://198.51.100.23/x'))
  t.ok(isEntryForAddress('2001:db8::1', '[2001:db8::1]:443'))
  t.ok(isEntryForAddress('2001:db8::1', '2001:db8::1'))
  t.notOk(isEntryForAddress('2001:db8::1', '2001:db8::1:443'), 'bare IPv6 with a port suffix is ambiguous: not matched')
})

t.test('IP hit stored as ip:port: malicious, neighbours dropped', async (t) => {
  const f = toThreatfoxFinding(ind('Address', '198.51.100.23'), body('ip-hit'))
  t.equal(f.verdict, 'malicious')
  t.equal(f.score, 100)
  t.equal(f.confidence, 100)
  t.same(f.facts, {
    malware: 'Cobalt Strike',
    threat_type: 'botnet_cc',
    confidence: 100,
    first_seen: '2024-01-30 08:00:00 UTC',
    last_seen: '2024-02-20 09:00:00 UTC',
    ioc_count: 2,
    tags: ['Cobalt Strike', 'c2', 'CobaltStrike'],
    iocs: ['198.51.100.23:443', '198.51.100.23:8080'],
    reference: 'https://threatfox.abuse.ch/ioc/1259312/',
  })
  t.notMatch(f.summary, /Mirai/)
  t.match(f.summary, /botnet_cc of Cobalt Strike \(2 IOCs, confidence 100\)/)
})

t.test('IP whose only entries are neighbours is unknown', async (t) => {
  const f = toThreatfoxFinding(ind('Address', '198.51.100.2'), body('ip-hit'))
  t.equal(f.verdict, 'unknown')
  t.equal(f.facts['ioc_count'], 0)
})

t.test('confidence below the threshold is suspicious', async (t) => {
  t.equal(THREATFOX_MALICIOUS_CONFIDENCE, 75)
  const f = toThreatfoxFinding(ind('Host', 'update-check.example.com'), body('domain-low-confidence'))
  t.equal(f.verdict, 'suspicious')
  t.equal(f.score, 50)
  t.equal(f.facts['malware'], 'SocGholish')
  t.equal(f.facts['threat_type'], 'payload_delivery')
  t.equal(f.facts['last_seen'], null)
  t.same(f.tags, ['SocGholish', 'FakeUpdates'])
})

t.test('exactly at the threshold is malicious; a missing confidence is suspicious', async (t) => {
  const entry = (confidence_level: unknown) => ({
    query_status: 'ok',
    data: [{ id: 1, ioc: 'x.example', confidence_level }],
  })
  t.equal(toThreatfoxFinding(ind('Host', 'x.example'), entry(75)).verdict, 'malicious')
  t.equal(toThreatfoxFinding(ind('Host', 'x.example'), entry(74)).verdict, 'suspicious')
  const none = toThreatfoxFinding(ind('Host', 'x.example'), entry(undefined))
  t.equal(none.verdict, 'suspicious')
  t.equal(none.score, null)
})

t.test('no_result with a string in data is unknown', async (t) => {
  const f = toThreatfoxFinding(ind('URL', 'http://x.example/'), body('no-result'))
  t.equal(f.verdict, 'unknown')
  t.equal(f.score, null)
  t.equal(f.facts['ioc_count'], 0)
  t.match(f.summary, /not listed/)
})

t.test('vendor errors are bad answers quoting the status', async (t) => {
  t.throws(() => toThreatfoxFinding(ind('Host', '..'), body('illegal-search-term')), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /'illegal_search_term': Your search term is not valid/,
  })
  t.throws(() => toThreatfoxFinding(ind('Host', 'x'), { query_status: 'ok', data: 'oops' }), {
    name: 'SourceError',
    kind: 'bad_answer',
  })
  t.throws(() => toThreatfoxFinding(ind('Host', 'x'), null), { name: 'SourceError', kind: 'bad_answer' })
})

t.test('search term', async (t) => {
  t.equal(threatfoxSearchTerm(ind('File', 'ABCDEF0123456789ABCDEF0123456789')), 'abcdef0123456789abcdef0123456789')
  t.equal(threatfoxSearchTerm(ind('URL', 'http://x.example/A')), 'http://x.example/A')
})
