import t from 'tap'
import { isSecretName, redactUrl, Scrubber, secretValuesOf } from '../../src/http/redact.js'

t.test('secret-looking names', async (t) => {
  for (const name of [
    'Key',
    'x-apikey',
    'X-OTX-API-KEY',
    'Auth-Key',
    'Authorization',
    'api_token',
    'client_secret',
    'password',
    'Cookie',
  ]) {
    t.ok(isSecretName(name), name)
  }
  for (const name of ['Accept', 'Content-Type', 'User-Agent', 'ipAddress', 'maxAgeInDays', 'query', 'Keep-Alive']) {
    t.notOk(isSecretName(name), name)
  }
})

t.test('redactUrl replaces secret query values and passwords, keeps the rest', async (t) => {
  t.equal(
    redactUrl('https://api.example.com/v2/check?ipAddress=1.2.3.4&apikey=abc123&token=t0k&maxAgeInDays=30'),
    'https://api.example.com/v2/check?ipAddress=1.2.3.4&apikey=[redacted]&token=[redacted]&maxAgeInDays=30',
  )
  t.equal(redactUrl('http://user:hunter22@proxy.local:3128/'), 'http://user:[redacted]@proxy.local:3128/')
  t.equal(redactUrl(new URL('http://h/p?q=1')), 'http://h/p?q=1')
})

t.test('secretValuesOf collects values of secret headers, params, form and JSON fields', async (t) => {
  const found = secretValuesOf({
    headers: { 'x-apikey': 'HEADERKEY', Accept: 'application/json', Authorization: 'TC-Token tok3n-value' },
    searchParams: { key: 'QUERYKEY', ip: '1.2.3.4', n: 5 },
    form: { 'auth-key': 'FORMKEY', host: 'example.com' },
    json: { api_key: 'JSONKEY', query: 'search_ioc' },
  })
  t.same(found.sort(), ['FORMKEY', 'HEADERKEY', 'JSONKEY', 'QUERYKEY', 'TC-Token tok3n-value', 'tok3n-value'].sort())
})

t.test('Scrubber removes secrets, also percent-encoded, longest first; ignores tiny values', async (t) => {
  const s = new Scrubber(['s3cr3t/key+=', 's3cr3t', 'ab'])
  t.equal(s.scrub('a s3cr3t/key+= b'), 'a [redacted] b')
  t.equal(s.scrub('url?k=s3cr3t%2Fkey%2B%3D'), 'url?k=[redacted]')
  t.equal(s.scrub('plain s3cr3t'), 'plain [redacted]')
  t.equal(s.scrub('ab stays'), 'ab stays', 'values under 4 characters are not scrubbed')
  t.equal(new Scrubber([]).scrub('nothing'), 'nothing')
})
