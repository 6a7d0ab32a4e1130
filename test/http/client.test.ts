/** The instrumented client against a fake vendor: answers, status handling, body handling, failures, abort. */
import t from 'tap'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { SOURCE_FAILURES_TOTAL, SOURCE_REQUESTS_TOTAL } from '../../src/metrics.js'
import { SourceError } from '../../src/errors.js'
import { clientUnderTest, failureOf, USER_AGENT } from './client-harness.js'

t.test('success: JSON body, status, headers, User-Agent, query and JSON/form bodies', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/api/v2/check', { json: { data: { score: 42 } }, headers: { 'x-extra': 'yes' } })
  vendor.route('POST', '/v1/host/', (req) => ({ json: { got: req.form } }))
  vendor.route('POST', '/api/v1/', (req) => ({ json: { got: req.json } }))
  const { client, metrics } = clientUnderTest(t, { baseUrl: `${vendor.url}/` })

  const res = await client.request({
    method: 'GET',
    path: '/api/v2/check',
    searchParams: { ipAddress: '1.2.3.4', verbose: true },
  })
  t.equal(res.status, 200)
  t.same(res.body, { data: { score: 42 } })
  t.equal(res.headers['x-extra'], 'yes')
  t.equal(res.attempts, 1)
  t.type(res.elapsedMs, 'number')
  const seen = vendor.requestsTo('/api/v2/check')[0]
  t.equal(seen?.headers['user-agent'], USER_AGENT)
  t.equal(seen?.headers['accept'], 'application/json')
  t.same(seen?.query, { ipAddress: '1.2.3.4', verbose: 'true' })

  const form = await client.request({ method: 'POST', path: 'v1/host/', form: { host: 'example.com' } })
  t.same(form.body, { got: { host: 'example.com' } })
  const json = await client.request({ method: 'POST', path: '/api/v1/', json: { query: 'search_ioc' } })
  t.same(json.body, { got: { query: 'search_ioc' } })
  t.equal(await metrics.get(SOURCE_REQUESTS_TOTAL, { source: 'vendor' }), 3)
})

t.test('a base URL with a path keeps it; per-request headers are sent', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/api/v3/ip_addresses/8.8.8.8', { json: { ok: true } })
  const { client } = clientUnderTest(t, { baseUrl: `${vendor.url}/api/v3` })
  const res = await client.request({ method: 'GET', path: 'ip_addresses/8.8.8.8', headers: { 'x-apikey': 'k-123456' } })
  t.same(res.body, { ok: true })
  t.equal(vendor.requests[0]?.headers['x-apikey'], 'k-123456')
})

t.test('404 listed in answerStatuses is an answer; otherwise an http_error', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/files/abc', {
    status: 404,
    json: { error: { code: 'NotFoundError', message: 'File "abc" not found' } },
  })
  const { client, metrics } = clientUnderTest(t, { baseUrl: vendor.url })
  const res = await client.request({ method: 'GET', path: '/files/abc', answerStatuses: [404] })
  t.equal(res.status, 404)
  t.same(res.body, { error: { code: 'NotFoundError', message: 'File "abc" not found' } })

  const err = await failureOf(client.request({ method: 'GET', path: '/files/abc' }))
  t.equal(err.kind, 'http_error')
  t.equal(err.skipped, false)
  t.equal(err.message, 'vendor answered HTTP 404: File "abc" not found')
  t.equal(vendor.requests.length, 2, '404 is not retried')
  t.equal(await metrics.get(SOURCE_FAILURES_TOTAL, { source: 'vendor', kind: 'http_error' }), 1)
})

t.test('a non-2xx answer status with a non-JSON body answers with body undefined', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/x', { status: 404, body: '<html>Not Found</html>', headers: { 'content-type': 'text/html' } })
  const { client } = clientUnderTest(t, { baseUrl: vendor.url })
  const res = await client.request({ method: 'GET', path: 'x', answerStatuses: [404] })
  t.equal(res.status, 404)
  t.equal(res.body, undefined)
})

t.test('401 and 403 -> auth, not retried', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/401', { status: 401, json: { error: { code: 'WrongCredentialsError' } } })
  vendor.route('GET', '/403', { status: 403 })
  const { client, metrics } = clientUnderTest(t, { baseUrl: vendor.url })
  const e401 = await failureOf(client.request({ method: 'GET', path: '401' }))
  t.equal(e401.kind, 'auth')
  t.equal(e401.message, 'vendor rejected the API key (HTTP 401)')
  const e403 = await failureOf(client.request({ method: 'GET', path: '403' }))
  t.equal(e403.kind, 'auth')
  t.equal(e403.message, 'vendor rejected the API key (HTTP 403)')
  t.equal(vendor.requests.length, 2)
  t.equal(await metrics.get(SOURCE_FAILURES_TOTAL, { source: 'vendor', kind: 'auth' }), 2)
})

t.test('400 -> http_error with the vendor message, not retried', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/check', {
    status: 422,
    json: { errors: [{ detail: 'The ip address must be a valid IPv4 or IPv6 address.', status: 422 }] },
  })
  const { client } = clientUnderTest(t, { baseUrl: vendor.url })
  const err = await failureOf(client.request({ method: 'GET', path: 'check' }))
  t.equal(err.kind, 'http_error')
  t.equal(err.message, 'vendor answered HTTP 422: The ip address must be a valid IPv4 or IPv6 address.')
  t.equal(vendor.requests.length, 1)
})

t.test('empty body -> body undefined', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('DELETE', '/thing', { status: 204 })
  vendor.route('GET', '/empty', { status: 200 })
  const { client } = clientUnderTest(t, { baseUrl: vendor.url })
  const deleted = await client.request({ method: 'DELETE', path: 'thing' })
  t.equal(deleted.status, 204)
  t.equal(deleted.body, undefined)
  const empty = await client.request({ method: 'GET', path: 'empty' })
  t.equal(empty.body, undefined)
})

t.test('malformed JSON -> bad_answer naming the source and the parser problem', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/bad', { body: '{"data": [1, 2', headers: { 'content-type': 'application/json' } })
  vendor.route('GET', '/html', {
    body: '<!doctype html><title>Login</title>',
    headers: { 'content-type': 'text/html' },
  })
  const { client, metrics } = clientUnderTest(t, { baseUrl: vendor.url })
  const err = await failureOf(client.request({ method: 'GET', path: 'bad' }))
  t.equal(err.kind, 'bad_answer')
  t.match(err.message, /^malformed JSON from vendor: .+/)
  t.equal(vendor.requestsTo('/bad').length, 1, 'a bad answer is not retried')
  const html = await failureOf(client.request({ method: 'GET', path: 'html' }))
  t.equal(html.kind, 'bad_answer')
  t.equal(await metrics.get(SOURCE_FAILURES_TOTAL, { source: 'vendor', kind: 'bad_answer' }), 2)
})

t.test('oversized body -> too_large, whether declared or streamed', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/declared', { bodyBytes: 5000 })
  // Chunked, no Content-Length: the cap must cut the download short, not wait for the end.
  vendor.route('GET', '/streamed', { bodyBytes: 1_000_000, drip: { intervalMs: 5, chunkBytes: 1024 } })
  vendor.route('GET', '/fits', { json: { pad: 'x'.repeat(900) } })
  const { client } = clientUnderTest(t, { baseUrl: vendor.url, maxResponseBytes: 2048 })
  const declared = await failureOf(client.request({ method: 'GET', path: 'declared' }))
  t.equal(declared.kind, 'too_large')
  t.equal(declared.message, 'answer from vendor is over the limit of 2048 bytes')
  const started = performance.now()
  const streamed = await failureOf(client.request({ method: 'GET', path: 'streamed' }))
  t.equal(streamed.kind, 'too_large')
  t.ok(performance.now() - started < 1000, 'aborted after a few chunks, long before the whole body (~5 s)')
  t.equal(vendor.requestsTo('/streamed').length, 1, 'not retried')
  t.same(Object.keys((await client.request({ method: 'GET', path: 'fits' })).body as object), ['pad'])
})

t.test('a vendor that never answers -> timeout within the configured time, not retried', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/hang', { hang: true })
  const { client, metrics } = clientUnderTest(t, {
    baseUrl: vendor.url,
    timeouts: { connectMs: 1000, responseMs: 300, totalMs: 2000 },
  })
  const started = performance.now()
  const err = await failureOf(client.request({ method: 'GET', path: 'hang' }))
  const took = performance.now() - started
  t.equal(err.kind, 'timeout')
  t.equal(err.message, 'no answer within 300 ms')
  t.ok(took >= 290 && took < 1500, `gave up after ${Math.round(took)} ms`)
  t.equal(vendor.requests.length, 1)
  t.equal(await metrics.get(SOURCE_FAILURES_TOTAL, { source: 'vendor', kind: 'timeout' }), 1)
})

t.test('a body dripping too slowly -> timeout at the total limit', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/drip', { json: { data: 'x'.repeat(200) }, drip: { intervalMs: 20, chunkBytes: 2 } })
  const { client } = clientUnderTest(t, {
    baseUrl: vendor.url,
    timeouts: { connectMs: 1000, responseMs: 1000, totalMs: 400 },
  })
  const started = performance.now()
  const err = await failureOf(client.request({ method: 'GET', path: 'drip' }))
  t.equal(err.kind, 'timeout')
  t.equal(err.message, 'no answer within 400 ms')
  t.ok(performance.now() - started < 1500)
})

t.test('connection reset -> network with the code, after retries', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/reset', { reset: true })
  const { client, metrics } = clientUnderTest(t, { baseUrl: vendor.url })
  const err = await failureOf(client.request({ method: 'GET', path: 'reset' }))
  t.equal(err.kind, 'network')
  t.match(err.message, /^connection to vendor failed: ECONNRESET/)
  t.equal(vendor.requests.length, 3, 'first try and two retries')
  t.equal(await metrics.get(SOURCE_FAILURES_TOTAL, { source: 'vendor', kind: 'network' }), 1)
  t.equal(await metrics.get(SOURCE_REQUESTS_TOTAL, { source: 'vendor' }), 3)
})

t.test('connection refused -> network ECONNREFUSED', async (t) => {
  const vendor = await startFakeVendor()
  const url = vendor.url
  await vendor.close()
  const { client } = clientUnderTest(t, { baseUrl: url, retry: { limit: 1, baseDelayMs: 1 } })
  const err = await failureOf(client.request({ method: 'GET', path: 'x' }))
  t.equal(err.kind, 'network')
  t.match(err.message, /ECONNREFUSED/)
})

t.test('abort signal -> cancelled: before, during the call, and during a retry wait', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/slow', { json: {}, delayMs: 5000 })
  vendor.route('GET', '/busy', { status: 503, headers: { 'retry-after': '5' } })
  const { client, metrics } = clientUnderTest(t, { baseUrl: vendor.url })

  const before = await failureOf(client.request({ method: 'GET', path: 'slow', signal: AbortSignal.abort() }))
  t.equal(before.kind, 'cancelled')
  t.equal(vendor.requests.length, 0, 'nothing sent')

  const during = new AbortController()
  setTimeout(() => during.abort(new Error('run deadline passed')), 100)
  let started = performance.now()
  const mid = await failureOf(client.request({ method: 'GET', path: 'slow', signal: during.signal }))
  t.equal(mid.kind, 'cancelled')
  t.equal(mid.message, 'cancelled: run deadline passed')
  t.ok(performance.now() - started < 1000, 'the call stopped at the abort')

  const waiting = new AbortController()
  setTimeout(() => waiting.abort(), 150)
  started = performance.now()
  const retryWait = await failureOf(client.request({ method: 'GET', path: 'busy', signal: waiting.signal }))
  t.equal(retryWait.kind, 'cancelled')
  t.ok(performance.now() - started < 1000, 'the 5 s Retry-After wait was cut short')
  t.equal(vendor.requestsTo('/busy').length, 1)
  t.equal(await metrics.get(SOURCE_FAILURES_TOTAL, { source: 'vendor', kind: 'cancelled' }), 3)
  t.type(mid, SourceError)
})

t.test('redirects: followed on the same origin, not to another host (it would get the key)', async (t) => {
  const vendor = await startFakeVendor(t)
  const other = await startFakeVendor(t)
  other.route('GET', '/steal', { json: { stolen: true } })
  vendor.route('GET', '/old', { status: 301, headers: { location: '/new' } })
  vendor.route('GET', '/new', { json: { moved: true } })
  vendor.route('GET', '/away', { status: 302, headers: { location: `${other.url}/steal` } })
  const { client } = clientUnderTest(t, { baseUrl: vendor.url })
  const res = await client.request({ method: 'GET', path: 'old', headers: { 'x-apikey': 'secret-key-1' } })
  t.same(res.body, { moved: true })
  const err = await failureOf(client.request({ method: 'GET', path: 'away', headers: { 'x-apikey': 'secret-key-1' } }))
  t.equal(err.kind, 'http_error')
  t.match(err.message, /HTTP 302/)
  t.equal(other.requests.length, 0)
})

t.test('state() and close()', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/ok', { json: {} })
  const { client } = clientUnderTest(t, { baseUrl: vendor.url })
  t.same(client.state(), { circuit: 'closed', queued: 0 })
  await client.request({ method: 'GET', path: 'ok' })
  client.close()
  const err = await failureOf(client.request({ method: 'GET', path: 'ok' }))
  t.equal(err.kind, 'cancelled')
})

t.test('bad settings are refused when the client is built', async (t) => {
  t.throws(() => clientUnderTest(t, { baseUrl: 'ftp://example.com' }), /not http\(s\)/)
  t.throws(() => clientUnderTest(t, { baseUrl: 'not a url' }), /not a URL/)
  t.throws(() => clientUnderTest(t, { baseUrl: 'http://x', timeouts: { responseMs: 0 } }), /positive/)
  t.throws(() => clientUnderTest(t, { baseUrl: 'http://x', rateLimit: { requests: 0, perMs: 1000 } }), /at least 1/)
})
