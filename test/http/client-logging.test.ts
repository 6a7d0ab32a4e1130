/** One log line per call, with the fields operators need, and no API key anywhere in the log or error messages. */
import t from 'tap'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { clientUnderTest, failureOf } from './client-harness.js'

const HEADER_KEY = 'hdr-KEY-7f3a9c1e5b'
const QUERY_KEY = 'qry/KEY+2b8d4f6a=='
const BEARER = 'tok3n-ABCDEF123456'
const FORM_KEY = 'form-KEY-99aa88bb'

/** Any 8 consecutive characters of a secret found in `text` (a prefix leaks too). */
const secretsIn = (text: string): string[] =>
  [HEADER_KEY, QUERY_KEY, encodeURIComponent(QUERY_KEY), BEARER, FORM_KEY].flatMap((secret) =>
    Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8)).filter((piece) => text.includes(piece)),
  )

t.test('keys in headers, query strings and forms never reach the log; one line per call', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/ok', { json: { fine: true } })
  // Vendors sometimes echo the key back; the echo must be scrubbed too.
  vendor.route('GET', '/echo', (req) => ({
    status: 400,
    json: { message: `invalid key ${String(req.headers['x-apikey'])}` },
  }))
  vendor.route('GET', '/unauth', { status: 401 })
  vendor.route('GET', '/garbled', (req) => ({ body: `${String(req.headers['x-apikey'])} is not JSON` }))
  vendor.route('POST', '/form', { status: 503 })
  vendor.route('GET', '/reset', { reset: true })
  const { client, logText, logLines } = clientUnderTest(t, { baseUrl: vendor.url, retry: { limit: 1, baseDelayMs: 1 } })
  const headers = { 'x-apikey': HEADER_KEY, authorization: `Bearer ${BEARER}` }
  const searchParams = { ip: '1.2.3.4', apikey: QUERY_KEY }

  const ok = await client.request({ method: 'GET', path: 'ok', headers, searchParams })
  t.same(ok.body, { fine: true })
  t.equal(vendor.requests[0]?.query['apikey'], QUERY_KEY, 'the vendor still gets the real key')
  const echo = await failureOf(client.request({ method: 'GET', path: 'echo', headers, searchParams }))
  t.equal(echo.message, 'vendor answered HTTP 400: invalid key [redacted]', 'the error message is scrubbed too')
  await failureOf(client.request({ method: 'GET', path: 'unauth', headers, searchParams }))
  const garbled = await failureOf(client.request({ method: 'GET', path: 'garbled', headers, searchParams }))
  t.equal(garbled.kind, 'bad_answer')
  t.same(secretsIn(garbled.message), [], 'the parser message quotes no part of the key')
  t.match(garbled.message, /^malformed JSON from vendor: Unexpected token .+ \(not valid JSON\)$/)
  await failureOf(
    client.request({ method: 'POST', path: 'form', headers, form: { 'auth-key': FORM_KEY, host: 'x.example' } }),
  )
  await failureOf(client.request({ method: 'GET', path: 'reset', headers, searchParams }))

  const text = logText()
  t.same(secretsIn(text), [], 'no secret in the captured log output')
  const lines = logLines().filter((l) => typeof l['url'] === 'string')
  t.equal(lines.length, 6, 'one line per call, retries included in it')

  const [first] = lines
  t.match(first, {
    source: 'vendor',
    method: 'GET',
    url: `${vendor.url}/ok?ip=1.2.3.4&apikey=[redacted]`,
    status: 200,
    attempt: 1,
    rateLimitWaitMs: 0,
    level: 30,
  })
  t.type(first?.['elapsedMs'], 'number')
  const retried = lines.find((l) => l['method'] === 'POST')
  t.match(retried, { status: 503, attempt: 2, kind: 'http_error', level: 40 }, 'failures: warn, with kind and attempts')
  const reset = lines.find((l) => String(l['url']).includes('/reset'))
  t.match(reset, { kind: 'network', attempt: 2 })
  t.equal(reset?.['status'], undefined, 'no status when no answer came')
})

t.test('skipped and cancelled calls are logged at info, with the reason', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/x', { json: {} })
  const { client, logLines } = clientUnderTest(t, {
    baseUrl: vendor.url,
    rateLimit: { requests: 1, perMs: 60_000, maxWaitMs: 10 },
  })
  await client.request({ method: 'GET', path: 'x' })
  await failureOf(client.request({ method: 'GET', path: 'x' }))
  await failureOf(client.request({ method: 'GET', path: 'x', signal: AbortSignal.abort() }))
  const [, skipped, cancelled] = logLines()
  t.match(skipped, { level: 30, kind: 'rate_limited', skipped: true, attempt: 0, reason: /over the wait of 10 ms/ })
  t.match(cancelled, { level: 30, kind: 'cancelled', attempt: 0 })
})

t.test(
  'with the log at warn, answered and skipped calls write nothing; failures still write their redacted line',
  async (t) => {
    const vendor = await startFakeVendor(t)
    vendor.route('GET', '/ok', { json: { fine: true } })
    vendor.route('GET', '/broken', { status: 500 })
    const { client, logLines } = clientUnderTest(t, { baseUrl: vendor.url, retry: { limit: 0 } }, {}, 'warn')
    await client.request({ method: 'GET', path: 'ok', searchParams: { apikey: QUERY_KEY } })
    t.same(logLines(), [], 'no line for an answer')
    await failureOf(client.request({ method: 'GET', path: 'broken', searchParams: { apikey: QUERY_KEY } }))
    t.match(logLines(), [
      { level: 40, msg: 'source call failed', status: 500, url: `${vendor.url}/broken?apikey=[redacted]` },
    ])
  },
)
