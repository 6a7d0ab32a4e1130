/** PlatformClient request building, signing and answer handling, over a recording fake HttpClient. */
import t from 'tap'
import { createHmac } from 'node:crypto'
import { SourceError } from '../../src/errors.js'
import type { HttpClient, HttpRequest, HttpResponse } from '../../src/http/types.js'
import {
  createPlatformClient,
  encodeQueryValue,
  indicatorCreateBody,
  indicatorTql,
  platformHttpSettings,
  platformSummary,
} from '../../src/platform/client.js'
import { HMAC, SECRET_KEY } from './harness.js'

type Answer = { status: number; body: unknown }

const fakeHttp = (answer: (req: HttpRequest) => Answer): HttpClient & { seen: HttpRequest[] } => {
  const seen: HttpRequest[] = []
  return {
    seen,
    async request(req): Promise<HttpResponse> {
      seen.push(req)
      const a = answer(req)
      return { ...a, headers: {}, elapsedMs: 1, attempts: 1 }
    },
    state: () => ({ circuit: 'closed', queued: 0 }),
    close: () => undefined,
  }
}

const NOW = 1513703787_000

t.test('TQL and create bodies per type', async (t) => {
  t.equal(indicatorTql('Address', '8.8.8.8'), 'typeName EQ "Address" AND summary EQ "8.8.8.8"')
  t.equal(
    indicatorTql('Address', '8.8.8.8', 'Acme "Org"'),
    'typeName EQ "Address" AND summary EQ "8.8.8.8" AND ownerName EQ "Acme \\"Org\\""',
  )
  t.equal(indicatorTql('File', 'a'.repeat(40)), `typeName EQ "File" AND value2 EQ "${'a'.repeat(40)}"`)
  t.equal(indicatorTql('ASN', '15169'), 'typeName EQ "ASN" AND summary EQ "ASN15169"')
  t.throws(() => indicatorTql('File', 'xyz'), SourceError)
  t.same(indicatorCreateBody('File', 'b'.repeat(64)), { type: 'File', sha256: 'b'.repeat(64) })
  t.same(indicatorCreateBody('CIDR', '10.0.0.0/8'), { type: 'CIDR', Block: '10.0.0.0/8' })
  t.same(indicatorCreateBody('ASN', 'as64500'), { type: 'ASN', 'AS Number': 'ASN64500' })
  t.equal(platformSummary('ASN', 'ASN1'), 'ASN1')
  t.equal(platformSummary('Host', 'AS1'), 'AS1')
})

t.test('query values: everything but unreserved characters is escaped', async (t) => {
  t.equal(encodeQueryValue(`summary EQ "a'(b)*!~-._"`), 'summary%20EQ%20%22a%27%28b%29%2A%21~-._%22')
})

t.test('platform http settings: tc proxy scope; writes never retry', async (t) => {
  const reads = platformHttpSettings('https://x', 'reads')
  const writes = platformHttpSettings('https://x', 'writes', { retry: { limit: 5 } })
  t.equal(reads.proxyScope, 'tc')
  t.equal(reads.sourceId, 'threatconnect')
  t.equal(reads.retry?.limit, 2)
  t.same(writes.retry, { limit: 0 })
})

t.test('findIndicator: signs the exact path+query sent, under a base path prefix', async (t) => {
  const http = fakeHttp(() => ({
    status: 200,
    body: {
      status: 'Success',
      data: [{ id: 7, type: 'Address', summary: '8.8.8.8', tags: { data: [{ name: 'X' }] }, attributes: {} }],
    },
  }))
  const client = createPlatformClient({ http, apiPath: 'https://tc.example/prefix', credentials: HMAC, now: () => NOW })
  const found = await client.findIndicator('Address', '8.8.8.8', 'Acme Org')
  t.match(found, { id: 7, tags: ['X'], attributes: [] })
  const req = http.seen[0] as HttpRequest
  t.equal(
    req.path,
    '/api/v3/indicators?tql=typeName%20EQ%20%22Address%22%20AND%20summary%20EQ%20%228.8.8.8%22%20AND%20ownerName%20EQ%20%22Acme%20Org%22&fields=tags&fields=attributes&resultLimit=10&owner=Acme%20Org',
  )
  t.equal(req.searchParams, undefined, 'the query is in the path, so what is signed is what is sent')
  const expected = createHmac('sha256', SECRET_KEY).update(`/prefix${req.path}:GET:1513703787`).digest('base64')
  t.equal(req.headers?.['Authorization'], `TC ${HMAC.kind === 'hmac' ? HMAC.accessId : ''}:${expected}`)
  t.equal(req.headers?.['Timestamp'], '1513703787')
})

t.test('findIndicator ignores records that are not the indicator asked for', async (t) => {
  const http = fakeHttp(() => ({
    status: 200,
    body: {
      status: 'Success',
      data: [
        { id: 1, type: 'Address', summary: '8.8.4.4' },
        { id: 2, type: 'File', summary: 'AAAA : BBBB', md5: 'A'.repeat(32) },
      ],
    },
  }))
  const client = createPlatformClient({ http, apiPath: 'https://tc.example', credentials: HMAC })
  t.equal(await client.findIndicator('Address', '8.8.8.8'), null)
  t.equal((await client.findIndicator('File', 'a'.repeat(32)))?.id, 2, 'a File matches on any of its hashes')
})

t.test('listPosts follows next links, relative to the base path, and stops on a loop', async (t) => {
  let calls = 0
  const http = fakeHttp((req) => {
    calls++
    if (req.path.includes('resultStart=0')) {
      return {
        status: 200,
        body: {
          status: 'Success',
          data: [{ id: 1, text: 'a' }],
          next: 'https://public.example/prefix/api/v3/posts?page=2',
        },
      }
    }
    // A broken server that always points at the same page.
    return {
      status: 200,
      body: {
        status: 'Success',
        data: [{ id: 2, text: 'b' }],
        next: 'https://public.example/prefix/api/v3/posts?page=2',
      },
    }
  })
  const client = createPlatformClient({
    http,
    apiPath: 'https://tc.example/prefix',
    credentials: { kind: 'token', token: 'tok' },
    pageSize: 1,
  })
  const posts = await client.listPosts(5)
  t.same(posts, [
    { id: 1, text: 'a' },
    { id: 2, text: 'b' },
  ])
  t.equal(calls, 2)
  t.equal(http.seen[0]?.path, '/api/v3/posts?objectId=5&objectType=Indicator&resultStart=0&resultLimit=1')
  t.equal(http.seen[1]?.path, '/api/v3/posts?page=2')
  t.same(http.seen[1]?.headers, { Accept: 'application/json', Authorization: 'TC-Token tok' })
})

t.test('writes go through writeHttp; update body uses append modes', async (t) => {
  const reads = fakeHttp(() => ({ status: 500, body: undefined }))
  const writes = fakeHttp((req) =>
    req.method === 'PUT'
      ? { status: 200, body: { status: 'Success', data: { id: 3, type: 'Host', summary: 'h.example', rating: 4 } } }
      : { status: 201, body: { status: 'Success', data: { id: 9, text: 'hi' } } },
  )
  const client = createPlatformClient({
    http: reads,
    writeHttp: writes,
    apiPath: 'https://tc.example',
    credentials: HMAC,
  })
  t.same(await client.createPost(3, 'hi'), { id: 9, text: 'hi' })
  const updated = await client.updateIndicator(3, { rating: 4, confidence: 10, tags: ['A'], description: 'D' })
  t.equal(updated.rating, 4)
  t.equal(reads.seen.length, 0)
  t.same(writes.seen[0]?.json, { objectId: 3, objectType: 'Indicator', text: 'hi' })
  t.same(writes.seen[1]?.json, {
    rating: 4,
    confidence: 10,
    tags: { data: [{ name: 'A' }], mode: 'append' },
    attributes: { data: [{ type: 'Description', value: 'D' }], mode: 'append' },
  })
  t.equal(writes.seen[1]?.path, '/api/v3/indicators/3?fields=tags&fields=attributes')
})

t.test('answers become SourceErrors with reasons', async (t) => {
  const answerWith = (a: Answer) =>
    createPlatformClient({ http: fakeHttp(() => a), apiPath: 'https://tc.example', credentials: HMAC })
  await t.rejects(answerWith({ status: 401, body: { status: 'Error', message: 'x' } }).listPosts(1), {
    kind: 'auth',
    message: 'ThreatConnect rejected the credentials (HTTP 401)',
  })
  await t.rejects(
    answerWith({ status: 400, body: { status: 'Error', message: 'Bad tql' } }).findIndicator('Host', 'a.b'),
    {
      kind: 'http_error',
      message: 'ThreatConnect rejected GET /api/v3/indicators (HTTP 400): Bad tql',
    },
  )
  await t.rejects(answerWith({ status: 404, body: undefined }).updateIndicator(1, {}), {
    message: 'ThreatConnect has no PUT /api/v3/indicators/1 (HTTP 404): no message',
  })
  await t.rejects(answerWith({ status: 200, body: { status: 'Success' } }).createPost(1, 'x'), {
    kind: 'bad_answer',
    message: /unexpected answer/,
  })
  await t.rejects(answerWith({ status: 200, body: { status: 'Error', message: 'nope' } }).listPosts(1), {
    kind: 'http_error',
    message: /nope/,
  })
  await t.rejects(answerWith({ status: 200, body: { status: 'Success', data: [{ text: 'no id' }] } }).listPosts(1), {
    kind: 'bad_answer',
    message: /post without an id/,
  })
})

t.test('a ThreatConnect 429 under HMAC pauses the API user: a later call, signed anew, is held too', async (t) => {
  const { createServer } = await import('node:http')
  const { platformClient } = await import('./harness.js')
  let calls = 0
  const tc = createServer((_req, res) => {
    calls += 1
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '120' })
    res.end(JSON.stringify({ status: 'Error', message: 'Too many requests' }))
  })
  await new Promise<void>((resolve) => tc.listen(0, '127.0.0.1', resolve))
  t.teardown(() => tc.close())
  let clock = NOW
  const client = platformClient(t, `http://127.0.0.1:${(tc.address() as { port: number }).port}`, {
    extra: { now: () => clock },
  })
  const first = await client.findIndicator('Address', '203.0.113.9').catch((e: unknown) => e)
  t.match(first, { kind: 'rate_limited' })
  clock += 2_000 // a new second: a new signature in the Authorization header
  const second = await client.findIndicator('Address', '203.0.113.9').catch((e: unknown) => e)
  t.match(second, { kind: 'rate_limited', skipped: true, message: /asked for a pause \(HTTP 429\)/ })
  t.equal(calls, 1, 'the second call never reached ThreatConnect')
})
