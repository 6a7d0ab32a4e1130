import t from 'tap'
import type { Indicator } from '../../../src/indicators/types.js'
import { greynoiseAnswer, greynoisePath, greynoiseVerdict, toGreynoiseFinding } from '../../../src/sources/greynoise.js'
import { gnBody } from './fake-greynoise.js'

const ip = (value: string): Indicator => ({ input: value, value, type: 'Address' })

t.test('path', async (t) => {
  t.equal(greynoisePath(ip('198.51.100.23')), '/v3/community/198.51.100.23')
  t.equal(greynoisePath(ip('2001:db8::7')), '/v3/community/2001:db8::7')
})

t.test('verdict mapping', async (t) => {
  t.equal(greynoiseVerdict('malicious', true, false), 'malicious')
  t.equal(greynoiseVerdict('malicious', false, true), 'malicious', 'malicious wins over RIOT')
  t.equal(greynoiseVerdict('benign', true, false), 'benign')
  t.equal(greynoiseVerdict('unknown', false, true), 'benign', 'RIOT: a common business service')
  t.equal(greynoiseVerdict('unknown', true, false), 'suspicious', 'scanning, intent unknown')
  t.equal(greynoiseVerdict(null, true, false), 'suspicious')
  t.equal(greynoiseVerdict('unknown', false, false), 'unknown')
  t.equal(greynoiseVerdict(null, false, false), 'unknown')
  t.equal(greynoiseVerdict('something-new', false, false), 'unknown')
})

t.test('malicious scanner', async (t) => {
  const f = toGreynoiseFinding(ip('198.51.100.23'), gnBody('malicious'))
  t.equal(f.verdict, 'malicious')
  t.equal(f.score, null)
  t.equal(f.confidence, null)
  t.same(f.tags, ['scanner'])
  t.equal(f.summary, 'classified malicious, scans the internet, last seen 2024-06-10')
  t.same(f.facts, {
    observed: true,
    classification: 'malicious',
    noise: true,
    riot: false,
    name: 'unknown',
    last_seen: '2024-06-10',
    link: 'https://viz.greynoise.io/ip/198.51.100.23',
  })
  t.same(f.raw, gnBody('malicious'))
})

t.test('RIOT business service is benign and named', async (t) => {
  const f = toGreynoiseFinding(ip('8.8.8.8'), gnBody('riot-benign'))
  t.equal(f.verdict, 'benign')
  t.same(f.tags, ['business-service'])
  t.equal(f.facts['name'], 'Google Public DNS')
  t.equal(f.summary, 'Google Public DNS: classified benign, a known business service, last seen 2024-06-11')
})

t.test('noise with unknown class is suspicious', async (t) => {
  const f = toGreynoiseFinding(ip('203.0.113.9'), gnBody('noise-unknown'))
  t.equal(f.verdict, 'suspicious')
  t.equal(f.facts['classification'], 'unknown')
})

t.test('404 "not observed" is an unknown finding', async (t) => {
  const f = greynoiseAnswer(ip('192.0.2.200'), { status: 404, body: gnBody('not-observed') })
  t.equal(f.verdict, 'unknown')
  t.equal(f.score, null)
  t.same(f.tags, [])
  t.equal(f.summary, 'not observed by GreyNoise')
  t.same(f.facts, { observed: false, noise: false, riot: false, link: 'https://viz.greynoise.io/ip/192.0.2.200' })
})

t.test('odd answers are bad_answer failures', async (t) => {
  t.throws(() => greynoiseAnswer(ip('10.0.0.1'), { status: 400, body: gnBody('not-routable') }), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /400: Request is not a valid routable IPv4 address/,
  })
  t.throws(() => greynoiseAnswer(ip('1.2.3.4'), { status: 404, body: undefined }), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /base URL/,
  })
  t.throws(() => greynoiseAnswer(ip('1.2.3.4'), { status: 200, body: gnBody('rate-limited') }), {
    kind: 'bad_answer',
    message: /daily rate limit/,
  })
})
