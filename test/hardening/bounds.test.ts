/**
 * Bounded in time and memory: what a hostile body, a slow client or a broken vendor can make the service
 * do, pinned item by item against local fakes.
 */
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { boundFinding, findingBytes } from '../../src/enrich/bound-finding.js'
import { FindingCache } from '../../src/enrich/finding-cache.js'
import type { Finding } from '../../src/sources/types.js'
import { startApp } from '../helpers/app.js'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { runReply } from '../helpers/run-reply.js'

const finding_ = (verdict: Finding['verdict'], raw: unknown = null): Finding => ({
  verdict,
  score: null,
  confidence: null,
  tags: [],
  summary: '',
  facts: {},
  raw,
})

t.test('prototype keys are refused naming the field and the reason, not as "not valid JSON"', async (t) => {
  const { app } = await startApp(t)
  const cases: [string, string][] = [
    ['{"indicator": "8.8.8.8", "__proto__": {"isAdmin": true}}', '__proto__'],
    ['{"indicator": "8.8.8.8", "constructor": {"prototype": {"x": 1}}}', 'constructor.prototype'],
    ['{"indicator": [{"type": "Address", "value": "8.8.8.8", "__proto__": {}}]}', 'indicator[0].__proto__'],
  ]
  for (const [payload, field] of cases) {
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      headers: { 'content-type': 'application/json' },
      payload,
    })
    t.equal(res.statusCode, 400, field)
    t.match(res.json(), { error: { code: 'INVALID_PARAM', field, message: /a prototype key is not accepted/ } }, field)
  }
  const ok = await app.inject({
    method: 'POST',
    url: '/run',
    headers: { 'content-type': 'application/json' },
    payload: '{"indicator": "constructor.example"}',
  })
  t.equal(ok.statusCode, 200, 'the word alone in a value is fine')
  const bad = await app.inject({
    method: 'POST',
    url: '/run',
    headers: { 'content-type': 'application/json' },
    payload: '{"indicator": ',
  })
  t.match(bad.json(), { error: { code: 'INVALID_JSON', message: 'the body is not valid JSON' } })
  const empty = await app.inject({
    method: 'POST',
    url: '/run',
    headers: { 'content-type': 'application/json' },
    payload: '',
  })
  t.match(empty.json(), { error: { code: 'INVALID_JSON' } })
})

t.test('what an error quotes from the request is capped, in the reply and in the log', async (t) => {
  const { app, logs } = await startApp(t)
  const key = `k${'x'.repeat(500_000)}`
  const res = await app.inject({ method: 'POST', url: '/run', payload: { indicator: '8.8.8.8', [key]: 1 } })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { error: { code: 'UNKNOWN_PARAM' } })
  t.ok(res.body.length < 2_000, `a ${res.body.length}-byte reply for a 500 KB key`)
  const longest = Math.max(...logs.map((l) => JSON.stringify(l).length))
  t.ok(longest < 4_000, `the longest log line is ${longest} bytes`)
  t.match(res.json<{ error: { message: string } }>().error.message, /… \(\d+ more characters\)/, 'says that it was cut')
})

t.test('/health shows the watchlist by file name, not its absolute path', async (t) => {
  const { app } = await startApp(t)
  const health = (await app.inject({ url: '/health' })).json<{ sources: { id: string; detail: string }[] }>()
  const detail = health.sources.find((s) => s.id === 'watchlist')?.detail ?? ''
  t.match(detail, /from watchlist\.sample\.csv/)
  t.notMatch(detail, /\//, 'no directory')
})

t.test('a Content-Encoding the service does not decode is a 415 naming it', async (t) => {
  const { app } = await startApp(t)
  for (const encoding of ['gzip', 'br', 'deflate, gzip']) {
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      payload: '{"indicator":"8.8.8.8"}',
    })
    t.equal(res.statusCode, 415, encoding)
    t.match(res.json(), {
      error: { code: 'UNSUPPORTED_MEDIA_TYPE', field: 'content-encoding', message: new RegExp(`'${encoding}'`) },
    })
  }
  const identity = await app.inject({
    method: 'POST',
    url: '/run',
    headers: { 'content-type': 'application/json', 'content-encoding': 'identity' },
    payload: '{"indicator":"8.8.8.8"}',
  })
  t.equal(identity.statusCode, 200)
})

// --- vendors that answer badly: each bad answer costs only its own source

const IP = '192.0.2.44'
const internetdbAnswer = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  cpes: [],
  hostnames: ['h.example'],
  ip: IP,
  ports: [443],
  tags: [],
  vulns: [],
  ...extra,
})

/** A value nested `depth` levels deep, built without recursion. */
const deeplyNested = (depth: number): unknown => {
  let v: unknown = 'bottom'
  for (let i = 0; i < depth; i += 1) v = [v]
  return v
}

t.test(
  'a deeply nested vendor answer fails nothing: the other sources answer, on every run (the cache too)',
  async (t) => {
    const vendor = await startFakeVendor(t)
    // JSON.stringify of the nested value would itself overflow here; the body is written as text.
    const body = `{"cpes":[],"hostnames":[],"ip":"${IP}","ports":[443],"tags":[],"vulns":[],"x":${'['.repeat(5000)}1${']'.repeat(5000)}}`
    vendor.route('GET', `/${IP}`, { body, headers: { 'content-type': 'application/json' } })
    const { app } = await startApp(t, { INTERNETDB_BASE_URL: vendor.url, INTERNETDB_RATE_LIMIT: '100/1s' })
    for (const round of ['first', 'from the cache']) {
      const res = await app.inject({
        method: 'POST',
        url: '/run',
        payload: { indicator: IP, sources: 'classify|internetdb' },
      })
      t.equal(res.statusCode, 200, `${round}: answered`)
      const reply = runReply(res)
      t.same(reply.outputs['enrich.results.sources.ok'], ['classify', 'internetdb'], round)
      t.same(reply.outputs['enrich.results.internetdb.ports'], ['443'], 'the facts are kept')
      t.match(
        String(reply.outputs['enrich.response.internetdb.json']),
        /nests deeper than 32 levels; not kept/,
        'the raw answer is replaced by a note',
      )
    }
    t.equal(vendor.requests.length, 1, 'the bounded finding was cached')
  },
)

t.test('a 256 KB vendor answer keeps at most 16 KiB: the reply stays small', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', `/${IP}`, {
    json: internetdbAnswer({
      padding: 'x'.repeat(256 * 1024),
      hostnames: Array.from({ length: 500 }, (_, i) => `host${i}.${'y'.repeat(400)}`),
    }),
  })
  const { app } = await startApp(t, { INTERNETDB_BASE_URL: vendor.url, INTERNETDB_RATE_LIMIT: '100/1s' })
  const res = await app.inject({ method: 'POST', url: '/run', payload: { indicator: IP, sources: 'internetdb' } })
  t.equal(res.statusCode, 200)
  t.ok(res.body.length < 100_000, `a ${res.body.length}-byte reply for a 456 KB answer`)
  const reply = runReply(res)
  t.match(String(reply.outputs['enrich.response.internetdb.json']), /over the 16384 kept/)
  const hostnames = reply.outputs['enrich.results.internetdb.hostnames'] as string[]
  t.ok(hostnames.length <= 50 && hostnames.every((h) => h.length <= 256), 'list facts are cut too')
})

t.test('a batch past MAX_VENDOR_LOOKUPS is refused up front, saying the limit and what fits', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.fallback({ json: internetdbAnswer() })
  const { app } = await startApp(t, { INTERNETDB_BASE_URL: vendor.url, MAX_VENDOR_LOOKUPS: '10' })
  const many = Array.from({ length: 11 }, (_, i) => `192.0.2.${i + 1}`)
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: many, sources: 'internetdb|classify' },
  })
  t.equal(res.statusCode, 413)
  t.match(res.json(), {
    error: {
      code: 'BATCH_TOO_LARGE',
      field: 'indicator',
      message: /11 indicators x 1 vendor source is 11 vendor lookups; at most 10 .*send at most 10 indicators/,
    },
  })
  t.equal(vendor.requests.length, 0, 'nothing was asked')
  const embedded = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: many, sources: 'classify|asn' },
  })
  t.equal(embedded.statusCode, 200, 'embedded sources are not vendor lookups')
})

t.test(
  'a 429 whose Retry-After does not fit in the run is reported at once as rate-limited, with the retry time',
  async (t) => {
    const vendor = await startFakeVendor(t)
    vendor.route('GET', `/${IP}`, { status: 429, headers: { 'retry-after': '30' }, json: { detail: 'slow down' } })
    const { app } = await startApp(t, { INTERNETDB_BASE_URL: vendor.url, RUN_TIMEOUT_MS: '5000' })
    const startedAt = Date.now()
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: IP, sources: 'classify|internetdb' },
    })
    const took = Date.now() - startedAt
    t.ok(took < 4_000, `answered in ${took} ms, not at the 5 s deadline`)
    t.match(runReply(res).outputs['enrich.results.sources.failed'], [
      /^internetdb: rate limited - .*HTTP 429.*retry after 30 s/,
    ])
    const metrics = (await app.inject({ url: '/metrics' })).body
    t.notMatch(metrics, /kind="cancelled"/, 'not counted as cancelled')
  },
)

t.test(
  'one deadline for the whole run: write-back gets no time of its own, and what it could not do is reported',
  async (t) => {
    // A vendor that answers just before the deadline, then a platform that hangs.
    const vendor = await startFakeVendor(t)
    vendor.route('GET', `/${IP}`, { delayMs: 600, json: internetdbAnswer() })
    const platform = await startFakeVendor(t)
    platform.fallback({ hang: true })
    const { app } = await startApp(t, {
      INTERNETDB_BASE_URL: vendor.url,
      RUN_TIMEOUT_MS: '1000',
      TC_API_PATH: platform.url,
      TC_TOKEN: 'tc-token-1',
    })
    const startedAt = Date.now()
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: IP, sources: 'internetdb', write_note: true },
    })
    const took = Date.now() - startedAt
    t.ok(took < 2_500, `the run ended with its 1 s deadline (${took} ms), write-back included`)
    t.equal(res.statusCode, 502)
    const reply = runReply(res)
    t.same(reply.outputs['enrich.results.sources.ok'], ['internetdb'], 'the enrichment is kept')
    t.equal(reply.outputs['enrich.results.writeback.status'], 'failed')
    t.match(reply.outputs['enrich.results.writeback.reason'], /deadline of 1000 ms passed/, 'and says why')
  },
)

t.test('the finding cache is bounded in bytes: the oldest findings go first', async (t) => {
  const cache = new FindingCache(1_000, () => 0, 10_000)
  const finding = finding_('benign')
  for (let i = 0; i < 10; i += 1) cache.set('vt', 'Address', `192.0.2.${i}`, finding, 3_000)
  t.ok(cache.bytes() <= 10_000, `${cache.bytes()} bytes held`)
  t.equal(cache.size('vt'), 3)
  t.ok(cache.get('vt', 'Address', '192.0.2.9', 1000), 'the newest is kept')
  t.notOk(cache.get('vt', 'Address', '192.0.2.0', 1000), 'the oldest went')
  cache.set('vt', 'Address', 'huge', finding, 20_000)
  t.notOk(cache.get('vt', 'Address', 'huge', 1000), 'a finding larger than the whole budget is not kept')
})

t.test('boundFinding measures depth without recursion, at any depth', async (t) => {
  const deep = deeplyNested(200_000)
  const finding = boundFinding(finding_('unknown', deep))
  const bytes = findingBytes(finding)
  t.match(finding.raw, { truncated: /nests deeper than 32 levels/ })
  t.ok(bytes < 2_000)
})

// --- slow and greedy clients, on a real listening server

const openSlowBody = (port: number): Promise<{ socket: Socket; closed: Promise<string> }> =>
  new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      // Headers promise a body that never comes whole.
      socket.write(
        'POST /run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"indic',
      )
      let answer = ''
      socket.on('data', (c: Buffer) => (answer += c.toString()))
      resolve({ socket, closed: new Promise((done) => socket.once('close', () => done(answer))) })
    })
    socket.once('error', reject)
  })

/** One whole POST /run on its own connection; resolves with everything the server said before closing it. */
const openRequest = (port: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const body = '{"indicator":"8.8.8.8"}'
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(
        `POST /run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      )
    })
    let answer = ''
    socket.on('data', (c: Buffer) => (answer += c.toString()))
    socket.once('close', () => resolve(answer))
    socket.once('error', reject)
  })

t.test(
  'by default one address may open many connections: 80 concurrent playbook steps through one proxy all answered',
  async (t) => {
    const { app } = await startApp(t, {})
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    const { Agent, request } = await import('node:http')
    const agent = new Agent({ keepAlive: true, maxSockets: 80 })
    t.teardown(() => agent.destroy())
    const statuses = await Promise.all(
      Array.from(
        { length: 80 },
        (_, i) =>
          new Promise<number>((resolve, reject) => {
            const req = request(
              `${url}/run`,
              { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
              (res) => {
                res.resume()
                res.on('end', () => resolve(res.statusCode ?? 0))
              },
            )
            req.once('error', reject)
            req.end(JSON.stringify({ indicator: `198.51.100.${i + 1}` }))
          }),
      ),
    )
    t.same([...new Set(statuses)], [200], 'every step answered 200; no connection lost')
  },
)

t.test(
  'slow bodies time out (408); a connection past the per-client cap is answered 503 with Retry-After',
  async (t) => {
    const { app } = await startApp(t, { REQUEST_TIMEOUT_MS: '600', MAX_CONNECTIONS_PER_CLIENT: '3' })
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    const port = Number(new URL(url).port)
    const slow = await Promise.all([openSlowBody(port), openSlowBody(port), openSlowBody(port)])
    const extra = await openRequest(port)
    const said = await extra
    t.match(said, /^HTTP\/1\.1 503/, 'a fourth connection from the same client hears 503, not a closed socket')
    t.match(said, /retry-after: 1/i)
    t.match(said, /MAX_CONNECTIONS_PER_CLIENT/)
    const startedAt = Date.now()
    const answers = await Promise.all(slow.map((s) => s.closed))
    for (const a of answers) t.match(a, /^HTTP\/1\.1 408/, 'the slow body got 408 and its connection closed')
    t.ok(Date.now() - startedAt < 5_000, 'within the request timeout (checked every second)')
    const health = await fetch(`${url}/health`)
    t.equal(health.status, 200, 'and the service answers again')
  },
)
