import t from 'tap'
import { readFileSync } from 'node:fs'
import { SourceError } from '../../../src/errors.js'
import type { Indicator, IndicatorType } from '../../../src/indicators/types.js'
import { hashKindOf } from '../../../src/indicators/file-hash.js'
import {
  URLHAUS_SCORE_OFFLINE,
  URLHAUS_SCORE_ONLINE,
  URLHAUS_SCORE_PAYLOAD,
  toUrlhausHostFinding,
  toUrlhausPayloadFinding,
  toUrlhausUrlFinding,
  urlhausSource,
  urlhausUnsearchableHashFinding,
} from '../../../src/sources/urlhaus.js'

const body = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./bodies/${name}.json`, import.meta.url), 'utf8'))
const ind = (type: IndicatorType, value: string): Indicator => ({ input: value, value, type })

t.test('definition', async (t) => {
  t.equal(urlhausSource.kind, 'vendor')
  t.same(urlhausSource.supports, ['URL', 'Host', 'File'])
  t.same(
    urlhausSource.settings.map((s) => s.env),
    ['URLHAUS_API_KEY', 'URLHAUS_BASE_URL', 'URLHAUS_RATE_LIMIT'],
  )
  t.equal(urlhausSource.settings.find((s) => s.key === 'baseUrl')?.default, 'https://urlhaus-api.abuse.ch')
  t.equal(urlhausSource.settings.find((s) => s.key === 'rateLimit')?.default, '10/1s')
  t.same(urlhausSource.rateLimits, [{ requests: 10, perMs: 1000 }])
})

t.test('online URL is malicious', async (t) => {
  const f = toUrlhausUrlFinding(ind('URL', 'http://203.0.113.7:41253/Mozi.m'), body('url-online'))
  t.equal(f.verdict, 'malicious')
  t.equal(f.score, URLHAUS_SCORE_ONLINE)
  t.equal(f.confidence, null)
  t.same(f.tags, ['elf', 'Mozi'])
  t.same(f.facts, {
    status: 'online',
    threat: 'malware_download',
    url_count: 1,
    reference: 'https://urlhaus.abuse.ch/url/2735101/',
    tags: ['elf', 'Mozi'],
    first_seen: '2024-03-04 10:12:45 UTC',
    signature: 'Mozi',
  })
  t.match(f.summary, /online malware_download URL \(Mozi\)/)
  t.same(f.raw, body('url-online'))
})

t.test('offline URL is suspicious', async (t) => {
  const f = toUrlhausUrlFinding(ind('URL', 'https://bad.example.net/invoice.php?id=7&x=a b'), body('url-offline'))
  t.equal(f.verdict, 'suspicious')
  t.equal(f.score, URLHAUS_SCORE_OFFLINE)
  t.equal(f.facts['status'], 'offline')
  t.equal(f.facts['signature'], null)
})

t.test('host: any online URL -> malicious; counts arrive as strings', async (t) => {
  const f = toUrlhausHostFinding(ind('Host', 'bad.example.net'), body('host-ok'))
  t.equal(f.verdict, 'malicious')
  t.equal(f.score, URLHAUS_SCORE_ONLINE)
  t.equal(f.facts['url_count'], 3)
  t.equal(f.facts['status'], 'online')
  t.equal(f.facts['threat'], 'malware_download')
  t.equal(f.facts['reference'], 'https://urlhaus.abuse.ch/host/bad.example.net/')
  t.same(f.tags, ['emotet', 'doc', 'exe'], 'tags deduplicated, a null tags list tolerated')
  t.match(f.summary, /3 malware URLs on this host, 1 online/)
})

t.test('host: all URLs offline -> suspicious', async (t) => {
  const answer = body('host-ok') as { urls: { url_status: string }[] }
  for (const u of answer.urls) u.url_status = 'offline'
  const f = toUrlhausHostFinding(ind('Host', 'bad.example.net'), answer)
  t.equal(f.verdict, 'suspicious')
  t.equal(f.score, URLHAUS_SCORE_OFFLINE)
  t.equal(f.facts['status'], 'offline')
})

t.test('payload is malicious even when its URLs are offline', async (t) => {
  const f = toUrlhausPayloadFinding(ind('File', '2f9e6b2b6a7d0f1b9e3e2f2ff6d1b0c1'), body('payload-ok'))
  t.equal(f.verdict, 'malicious')
  t.equal(f.score, URLHAUS_SCORE_PAYLOAD)
  t.equal(f.facts['signature'], 'AgentTesla')
  t.equal(f.facts['url_count'], 2)
  t.equal(f.facts['status'], 'offline')
  t.equal(
    f.facts['reference'],
    'https://urlhaus.abuse.ch/browse.php?search=0d4f8d1b2b0c6a0e1b7e3bdbe0e8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6',
  )
  t.same(f.tags, ['AgentTesla'])
  t.match(f.summary, /AgentTesla \(exe\) spread by 2 URLs, 0 online/)
})

t.test('no_results is unknown, never benign', async (t) => {
  for (const map of [toUrlhausUrlFinding, toUrlhausHostFinding, toUrlhausPayloadFinding]) {
    const f = map(ind('URL', 'http://x.example/'), body('no-results'))
    t.equal(f.verdict, 'unknown')
    t.equal(f.score, null)
    t.equal(f.facts['status'], 'not_listed')
    t.equal(f.facts['url_count'], 0)
  }
})

t.test('vendor error statuses and odd bodies are bad answers', async (t) => {
  t.throws(() => toUrlhausUrlFinding(ind('URL', 'nope'), body('invalid-url')), {
    name: 'SourceError',
    kind: 'bad_answer',
    message: /query_status 'invalid_url'/,
  })
  t.throws(() => toUrlhausHostFinding(ind('Host', 'x'), { query_status: 'invalid_host' }), {
    name: 'SourceError',
    kind: 'bad_answer',
  })
  t.throws(() => toUrlhausHostFinding(ind('Host', 'x'), '<html>'), { name: 'SourceError', kind: 'bad_answer' })
  t.throws(() => toUrlhausPayloadFinding(ind('File', 'x'), {}), SourceError)
})

t.test('hash kinds', async (t) => {
  t.equal(hashKindOf('a'.repeat(32)), 'md5')
  t.equal(hashKindOf('A'.repeat(40)), 'sha1')
  t.equal(hashKindOf('0'.repeat(64)), 'sha256')
  t.equal(hashKindOf('f'.repeat(128)), 'sha512')
  t.equal(hashKindOf('g'.repeat(32)), undefined)
  t.equal(hashKindOf('a'.repeat(33)), undefined)
  const f = urlhausUnsearchableHashFinding(ind('File', 'a'.repeat(40)), 'sha1')
  t.equal(f.verdict, 'unknown')
  t.equal(f.facts['status'], 'not_searchable')
  t.match(f.summary, /cannot search a sha1 hash/)
  t.match(String(f.facts['note']), /md5 or sha256 only/)
})
