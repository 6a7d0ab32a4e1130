/**
 * /run's params as a playbook's HTTP Client sends them: each input a whole value in the query string (an unset one
 * left out, or arriving as `<null>`/`null`), vendor keys in their own headers (never in the body, never logged,
 * never echoed), the body `{}`. A param given twice is refused, naming it.
 */
import t from 'tap'
import { keyHeaderOf, keyHeaderTitle } from '../../src/contract/request-params.js'
import { startApp } from '../helpers/app.js'
import { runReply } from '../helpers/run-reply.js'
import { GOOD_KEY, startFakeVirustotal, vtBody } from '../sources/virustotal/fake-virustotal.js'

const HEADER_KEY = 'header-key-0123456789abcdef'

t.test('the header a vendor key travels in is named from its param', async (t) => {
  t.equal(keyHeaderOf('virustotal_api_key'), 'x-virustotal-key')
  t.equal(keyHeaderOf('otx_api_key'), 'x-otx-key')
  t.equal(keyHeaderTitle('abuseipdb_api_key'), 'X-Abuseipdb-Key')
})

t.test('params in the query string, a key in its header: accepted, the key goes to its vendor only', async (t) => {
  const vt = await startFakeVirustotal(t)
  vt.object('/ip_addresses/198.51.100.23', vtBody('ip-malicious'))
  const { app, logs } = await startApp(t, { VIRUSTOTAL_BASE_URL: vt.baseUrl, VIRUSTOTAL_RATE_LIMIT: '100/1s' })
  const res = await app.inject({
    method: 'POST',
    url: '/run?indicator=198.51.100.23&sources=virustotal%7Casn&fail_on_error=true&force_refresh=true',
    headers: { 'content-type': 'application/json', 'x-virustotal-key': GOOD_KEY },
    payload: '{}',
  })
  t.equal(res.statusCode, 200, res.body)
  const reply = runReply(res)
  t.equal(reply.outputs['enrich.results.verdict'], 'malicious')
  t.same(
    vt.vendor.requests.map((r) => r.headers['x-apikey']),
    [GOOD_KEY],
    'VirusTotal got the key from the header',
  )
  t.notMatch(res.body, GOOD_KEY, 'the key is not echoed')
  t.notMatch(JSON.stringify(logs), GOOD_KEY, 'nor logged')
})

t.test(
  'every optional input unset, as a playbook leaves them: left out, `<null>` or `null`, all read as unset',
  async (t) => {
    const { app } = await startApp(t)
    const unset = [
      '', // left out of the query by the HTTP Client
      '&tc_profile=%3Cnull%3E&owner=%3Cnull%3E&sources=null&indicator_type=',
    ]
    for (const extra of unset) {
      const res = await app.inject({
        method: 'POST',
        url: `/run?indicator=8.8.8.8${extra}`,
        headers: { 'content-type': 'application/json', 'x-virustotal-key': '<null>', 'x-otx-key': '' },
        payload: '{}',
      })
      t.equal(res.statusCode, 200, `${extra || 'nothing'}: ${res.statusCode === 200 ? 'accepted' : res.body}`)
    }
    const json = await app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: '8.8.8.8', tc_profile: null, owner: '<null>', virustotal_api_key: null },
    })
    t.equal(json.statusCode, 200, 'JSON null in the body is unset too')
  },
)

t.test(
  'a param given twice, or unknown in the query, is refused naming it; a bad key header is not echoed',
  async (t) => {
    const { app } = await startApp(t)
    const twice = await app.inject({
      method: 'POST',
      url: '/run?indicator=8.8.8.8',
      payload: { indicator: '1.1.1.1' },
    })
    t.equal(twice.statusCode, 400)
    t.match(twice.json(), {
      error: { code: 'INVALID_PARAM', field: 'indicator', message: /both in the body and the query/ },
    })
    const header = await app.inject({
      method: 'POST',
      url: '/run',
      headers: { 'x-virustotal-key': HEADER_KEY },
      payload: { indicator: '8.8.8.8', virustotal_api_key: 'body-key-0123456789' },
    })
    t.match(header.json(), { error: { field: 'virustotal_api_key', message: /X-Virustotal-Key header/ } })
    t.notMatch(header.body, HEADER_KEY)
    t.notMatch(header.body, 'body-key-0123456789')
    const unknown = await app.inject({ method: 'POST', url: '/run?indicator=8.8.8.8&sorces=asn', payload: {} })
    t.equal(unknown.statusCode, 400)
    t.match(unknown.json(), { error: { code: 'UNKNOWN_PARAM', field: 'sorces' } })
    const long = `k${'x'.repeat(5000)}`
    const tooLong = await app.inject({
      method: 'POST',
      url: '/run?indicator=8.8.8.8',
      headers: { 'x-virustotal-key': long },
      payload: {},
    })
    t.notMatch(tooLong.body, long.slice(0, 40), 'a refused key is never repeated in the error')
  },
)
