import t from 'tap'
import { SourceError } from '../../../src/errors.js'
import type { Indicator, IndicatorType } from '../../../src/indicators/types.js'
import {
  VT_MALICIOUS_MIN_ENGINES,
  readVtStats,
  strongestHash,
  toVirustotalFinding,
  virustotalAnswer,
  virustotalObject,
  virustotalScore,
  virustotalUrlId,
  virustotalVerdict,
} from '../../../src/sources/virustotal.js'
import { vtBody } from './fake-virustotal.js'

const ind = (type: IndicatorType, value: string): Indicator => ({ input: value, value, type })
const stats = (malicious: number, suspicious: number, harmless = 50, undetected = 20) => ({
  malicious,
  suspicious,
  harmless,
  undetected,
  timeout: 0,
})

t.test('URL id is unpadded URL-safe base64 of the URL', async (t) => {
  // This URL's standard base64 has '+', '/' and '=' padding: all must be gone.
  const url = 'http://example.com/?q=>>>~'
  t.match(Buffer.from(url).toString('base64'), /[+/=]/)
  const id = virustotalUrlId(url)
  t.notMatch(id, /[+/=]/)
  t.equal(Buffer.from(id, 'base64url').toString('utf8'), url)
  t.equal(virustotalUrlId('http://a.b/'), 'aHR0cDovL2EuYi8')
})

t.test('object path per indicator type', async (t) => {
  t.equal(virustotalObject(ind('Address', '198.51.100.23')).path, '/ip_addresses/198.51.100.23')
  t.equal(virustotalObject(ind('Address', '2001:db8::7')).path, '/ip_addresses/2001:db8::7')
  t.equal(virustotalObject(ind('Host', 'example.com')).path, '/domains/example.com')
  t.equal(virustotalObject(ind('URL', 'http://a.b/')).path, '/urls/aHR0cDovL2EuYi8')
  t.equal(
    virustotalObject(ind('File', '44D88612FEA8A8F36DE82E1278ABB02F')).path,
    '/files/44d88612fea8a8f36de82e1278abb02f',
  )
  t.throws(() => virustotalObject(ind('ASN', 'AS15169')), SourceError)
})

t.test('a combined File value asks with the strongest hash', async (t) => {
  const md5 = '44d88612fea8a8f36de82e1278abb02f'
  const sha1 = '3395856ce81f2b7382dee72602f798b642f14140'
  const sha256 = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f'
  t.equal(strongestHash(`${md5} : ${sha1} : ${sha256}`), sha256)
  t.equal(strongestHash(`${md5} : ${sha1}`), sha1)
  t.equal(strongestHash(md5), md5)
})

t.test('verdict thresholds', async (t) => {
  t.equal(virustotalVerdict(stats(VT_MALICIOUS_MIN_ENGINES, 0), 0), 'malicious')
  t.equal(virustotalVerdict(stats(VT_MALICIOUS_MIN_ENGINES - 1, 0), 0), 'suspicious')
  t.equal(virustotalVerdict(stats(1, 0), 100), 'suspicious', 'one detection beats a good reputation')
  t.equal(virustotalVerdict(stats(0, 1), 0), 'suspicious')
  t.equal(virustotalVerdict(stats(0, 0), 0), 'unknown', 'a clean scan alone is not benign')
  t.equal(virustotalVerdict(stats(0, 0), null), 'unknown')
  t.equal(virustotalVerdict(stats(0, 0), -5), 'unknown')
  t.equal(virustotalVerdict(stats(0, 0), 1), 'benign', 'clean scan and a positive reputation')
  t.equal(virustotalVerdict(stats(0, 0, 0, 0), 50), 'unknown', 'never analysed')
})

t.test('score: 10 per malicious engine, 5 per suspicious, capped; null without analysis', async (t) => {
  t.equal(virustotalScore(stats(0, 0)), 0)
  t.equal(virustotalScore(stats(3, 0)), 30)
  t.equal(virustotalScore(stats(1, 1)), 15)
  t.equal(virustotalScore(stats(62, 0)), 100)
  t.equal(virustotalScore(stats(0, 0, 0, 0)), null)
})

t.test('readVtStats tolerates missing and odd counts', async (t) => {
  t.same(readVtStats(undefined), { malicious: 0, suspicious: 0, harmless: 0, undetected: 0, timeout: 0 })
  t.same(readVtStats({ malicious: null, suspicious: -1, harmless: 2.7 }), {
    malicious: 0,
    suspicious: 0,
    harmless: 2,
    undetected: 0,
    timeout: 0,
  })
})

t.test('malicious IP answer', async (t) => {
  const f = toVirustotalFinding(ind('Address', '198.51.100.23'), vtBody('ip-malicious'))
  t.equal(f.verdict, 'malicious')
  t.equal(f.score, 100)
  t.equal(f.confidence, null)
  t.same(f.tags, ['botnet', 'scanner'])
  t.equal(f.summary, '12/94 engines flag it malicious, 2 suspicious; reputation -31')
  t.match(f.facts, {
    found: true,
    malicious: 12,
    suspicious: 2,
    harmless: 54,
    undetected: 26,
    reputation: -31,
    votes_malicious: 7,
    asn: 64500,
    as_owner: 'EXAMPLE-HOSTING-AS',
    country: 'NL',
    network: '198.51.100.0/24',
    last_analysis_date: '2024-06-10T06:13:20.000Z',
    link: 'https://www.virustotal.com/gui/ip-address/198.51.100.23',
  })
  t.same(f.raw, vtBody('ip-malicious'))
})

t.test('benign domain answer keeps categories and registrar', async (t) => {
  const f = toVirustotalFinding(ind('Host', 'example.com'), vtBody('domain-benign'))
  t.equal(f.verdict, 'benign')
  t.equal(f.score, 0)
  t.same(f.facts['categories'], ['information technology', 'computersandsoftware'])
  t.equal(f.facts['registrar'], 'RESERVED-Internet Assigned Numbers Authority')
  t.equal(f.facts['link'], 'https://www.virustotal.com/gui/domain/example.com')
})

t.test('file answer: threat label, tags, GUI link by sha256', async (t) => {
  const f = toVirustotalFinding(ind('File', '44d88612fea8a8f36de82e1278abb02f'), vtBody('file-malicious'))
  t.equal(f.verdict, 'malicious')
  t.equal(f.facts['threat_label'], 'virus.eicar/test')
  t.equal(f.facts['timeout'], 1)
  t.same(f.tags, ['com', 'eicar', 'attachment', 'known-distributor'])
  t.equal(
    f.facts['link'],
    'https://www.virustotal.com/gui/file/275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
  )
})

t.test('known but never analysed: unknown with no score', async (t) => {
  const f = toVirustotalFinding(ind('Host', 'fresh.example.org'), vtBody('never-analysed'))
  t.equal(f.verdict, 'unknown')
  t.equal(f.score, null)
  t.match(f.summary, /not analysed yet/)
})

t.test('404 NotFoundError is an unknown finding with a search link', async (t) => {
  const f = virustotalAnswer(ind('URL', 'http://a.b/x y'), { status: 404, body: vtBody('not-found') })
  t.equal(f.verdict, 'unknown')
  t.equal(f.score, null)
  t.equal(f.facts['found'], false)
  t.equal(f.facts['link'], 'https://www.virustotal.com/gui/search/http%3A%2F%2Fa.b%2Fx%20y')
  t.equal(f.summary, 'not in VirusTotal')
})

t.test('odd answers are bad_answer failures naming the cause', async (t) => {
  const a = ind('Address', '198.51.100.23')
  t.throws(() => virustotalAnswer(a, { status: 404, body: { error: 'no fake route' } }), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /base URL/,
  })
  t.throws(() => virustotalAnswer(a, { status: 400, body: vtBody('invalid-argument') }), {
    kind: 'bad_answer',
    message: /400 InvalidArgumentError: Invalid domain/,
  })
  t.throws(() => virustotalAnswer(a, { status: 200, body: vtBody('quota-exceeded') }), {
    kind: 'bad_answer',
    message: /QuotaExceededError/,
  })
  t.throws(() => virustotalAnswer(a, { status: 200, body: { data: { id: 'x' } } }), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /out of shape: \/data must have required properties attributes/,
  })
  t.throws(() => virustotalAnswer(a, { status: 200, body: undefined }), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /the body/,
  })
})

t.test('a count of the wrong type is a bad answer naming the field, never read as 0 engines', async (t) => {
  const body = { data: { id: '198.51.100.23', attributes: { last_analysis_stats: { malicious: '3', harmless: 60 } } } }
  t.throws(() => virustotalAnswer(ind('Address', '198.51.100.23'), { status: 200, body }), {
    kind: 'bad_answer',
    message: /\/data\/attributes\/last_analysis_stats\/malicious/,
  })
})
