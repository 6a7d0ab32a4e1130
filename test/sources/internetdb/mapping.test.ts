import t from 'tap'
import type { Indicator } from '../../../src/indicators/types.js'
import { internetdbAnswer, internetdbPath, toInternetdbFinding } from '../../../src/sources/internetdb.js'
import { idbBody } from './fake-internetdb.js'

const ip = (value: string): Indicator => ({ input: value, value, type: 'Address' })

t.test('path', async (t) => {
  t.equal(internetdbPath(ip('198.51.100.23')), '/198.51.100.23')
  t.equal(internetdbPath(ip('2001:db8::7')), '/2001:db8::7')
})

t.test('a host with ports and CVEs: context, verdict unknown, no score', async (t) => {
  const f = toInternetdbFinding(ip('198.51.100.23'), idbBody('host'))
  t.equal(f.verdict, 'unknown')
  t.equal(f.score, null)
  t.equal(f.confidence, null)
  t.same(f.tags, ['open-ports', 'vulns', 'cloud', 'self-signed'])
  t.same(f.facts, {
    found: true,
    ports: ['22', '80', '443', '8080', '8443', '9000'],
    vulns: ['CVE-2021-23017', 'CVE-2023-44487'],
    hostnames: ['vpn.example.net', 'mail.example.net'],
    tags: ['cloud', 'self-signed'],
    cpes: ['cpe:/a:openbsd:openssh:8.2p1', 'cpe:/a:nginx:nginx:1.18.0', 'cpe:/o:canonical:ubuntu_linux'],
  })
  t.equal(
    f.summary,
    'ports 22, 80, 443, 8080, 8443 (+1 more); CVEs CVE-2021-23017, CVE-2023-44487; hostnames vpn.example.net, mail.example.net; tags cloud, self-signed',
  )
  t.same(f.raw, idbBody('host'))
})

t.test('known with nothing listed', async (t) => {
  const f = toInternetdbFinding(ip('203.0.113.9'), idbBody('empty'))
  t.equal(f.verdict, 'unknown')
  t.same(f.tags, [])
  t.equal(f.summary, 'known to Shodan, nothing listed')
  t.same(f.facts['ports'], [])
})

t.test('404 "No information available" is an unknown finding', async (t) => {
  const f = internetdbAnswer(ip('192.0.2.200'), { status: 404, body: idbBody('not-found') })
  t.equal(f.verdict, 'unknown')
  t.same(f.facts, { found: false })
  t.equal(f.summary, 'no information in Shodan InternetDB')
})

t.test('odd answers are bad_answer failures', async (t) => {
  t.throws(() => internetdbAnswer(ip('1.2.3.4'), { status: 200, body: { detail: 'Invalid IP address' } }), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /detail: Invalid IP address/,
  })
  t.throws(() => internetdbAnswer(ip('1.2.3.4'), { status: 404, body: { error: 'x' } }), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /base URL/,
  })
})
