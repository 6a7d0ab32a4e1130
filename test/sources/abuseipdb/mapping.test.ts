import t from 'tap'
import type { Indicator } from '../../../src/indicators/types.js'
import {
  ABUSEIPDB_MALICIOUS_MIN_SCORE,
  ABUSEIPDB_MAX_AGE_DAYS,
  abuseipdbAnswer,
  abuseipdbCheckParams,
  abuseipdbVerdict,
  toAbuseipdbFinding,
} from '../../../src/sources/abuseipdb.js'
import { abuseBody } from './fake-abuseipdb.js'

const ip = (value: string): Indicator => ({ input: value, value, type: 'Address' })

t.test('check params: the address and a 90-day window', async (t) => {
  t.same(abuseipdbCheckParams(ip('2001:db8::7')), { ipAddress: '2001:db8::7', maxAgeInDays: 90 })
  t.equal(ABUSEIPDB_MAX_AGE_DAYS, 90)
})

t.test('verdict thresholds', async (t) => {
  t.equal(abuseipdbVerdict(100, false), 'malicious')
  t.equal(abuseipdbVerdict(ABUSEIPDB_MALICIOUS_MIN_SCORE, false), 'malicious')
  t.equal(abuseipdbVerdict(ABUSEIPDB_MALICIOUS_MIN_SCORE - 1, false), 'suspicious')
  t.equal(abuseipdbVerdict(1, false), 'suspicious')
  t.equal(abuseipdbVerdict(0, false), 'unknown', 'score 0 is not benign')
  t.equal(abuseipdbVerdict(0, true), 'benign', 'allow-listed by the vendor')
})

t.test('malicious answer', async (t) => {
  const f = toAbuseipdbFinding(ip('198.51.100.23'), abuseBody('check-malicious'))
  t.equal(f.verdict, 'malicious')
  t.equal(f.score, 100)
  t.equal(f.confidence, null)
  t.same(f.tags, ['reported'])
  t.equal(f.summary, 'abuse confidence 100%, 1543 reports from 312 users in 90 days (Example Hosting B.V., NL)')
  t.same(f.facts, {
    score: 100,
    total_reports: 1543,
    distinct_users: 312,
    country: 'NL',
    isp: 'Example Hosting B.V.',
    domain: 'example-hosting.nl',
    usage_type: 'Data Center/Web Hosting/Transit',
    is_tor: false,
    is_whitelisted: false,
    last_reported_at: '2024-06-10T08:12:44+00:00',
    link: 'https://www.abuseipdb.com/check/198.51.100.23',
  })
  t.same(f.raw, abuseBody('check-malicious'))
})

t.test('Tor exit with a middling score is suspicious and tagged', async (t) => {
  const f = toAbuseipdbFinding(ip('2001:db8::7'), abuseBody('check-suspicious-tor'))
  t.equal(f.verdict, 'suspicious')
  t.equal(f.score, 41)
  t.same(f.tags, ['tor', 'reported'])
  t.equal(f.facts['is_tor'], true)
  t.equal(f.facts['link'], 'https://www.abuseipdb.com/check/2001%3Adb8%3A%3A7')
})

t.test('never reported: unknown, score 0, null last report and usage', async (t) => {
  const f = toAbuseipdbFinding(ip('192.0.2.200'), abuseBody('check-unknown'))
  t.equal(f.verdict, 'unknown')
  t.equal(f.score, 0)
  t.same(f.tags, [])
  t.equal(f.facts['last_reported_at'], null)
  t.equal(f.facts['usage_type'], null)
  t.equal(f.facts['is_whitelisted'], false, 'isWhitelisted null reads as false')
  t.match(f.summary, /^abuse confidence 0%, no reports in 90 days/)
})

t.test('allow-listed: benign even with old reports', async (t) => {
  const f = toAbuseipdbFinding(ip('8.8.8.8'), abuseBody('check-whitelisted'))
  t.equal(f.verdict, 'benign')
  t.same(f.tags, ['whitelisted', 'reported'])
  t.match(f.summary, /allow-listed/)
})

t.test('422 and odd bodies are bad_answer failures quoting the vendor', async (t) => {
  t.throws(() => abuseipdbAnswer(ip('1.2.3.4'), { status: 422, body: abuseBody('invalid-ip') }), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /422: The ip address must be a valid IPv4 or IPv6 address/,
  })
  t.throws(() => abuseipdbAnswer(ip('1.2.3.4'), { status: 422, body: {} }), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /no detail/,
  })
  t.throws(() => abuseipdbAnswer(ip('1.2.3.4'), { status: 200, body: { data: {} } }), {
    name: 'SourceError',
    kind: 'bad_answer',
  })
  t.throws(() => abuseipdbAnswer(ip('1.2.3.4'), { status: 200, body: abuseBody('rate-limited') }), {
    name: 'SourceError',
    kind: 'bad_answer',
  })
})
