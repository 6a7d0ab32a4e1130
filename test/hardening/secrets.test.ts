/**
 * Secrets never leave the service: every secret setting (RUN_TOKEN, each *_API_KEY, the ThreatConnect secret key
 * and token, the proxy password) and a per-request key are set to marker values; vendors and the platform are fakes
 * that echo the credentials they receive back in their answers (the worst case), failing in every way. No reply
 * body or header and no log line (at trace level) may contain a marker.
 */
import t from 'tap'
import { settingRows } from '../../src/config/env.js'
import { SOURCE_DEFINITIONS } from '../../src/sources/registry.js'
import { startApp } from '../helpers/app.js'
import { startFakeVendor, type FakeReply, type RecordedRequest } from '../helpers/fake-vendor.js'
import { closedPortUrl } from '../platform/harness.js'
import { startRedis } from '../helpers/redis-server.js'

const rows = settingRows(SOURCE_DEFINITIONS)
const secretEnvs = rows.filter((r) => r.secret).map((r) => r.env)
const baseUrlEnvs = rows.filter((r) => r.env.endsWith('_BASE_URL')).map((r) => r.env)
const markerOf = (name: string): string => `mk${name.toLowerCase().replace(/[^a-z0-9]/g, '')}Q7x`
const PARAM_KEY_MARKER = markerOf('request-param-vt-key')
const markers = [...secretEnvs.map(markerOf), PARAM_KEY_MARKER]
const ALL_SOURCES = SOURCE_DEFINITIONS.map((s) => s.id)
const INDICATORS = [
  '8.8.8.8',
  'evil.example',
  'http://evil.example/login',
  '44d88612fea8a8f36de82e1278abb02f',
  'someone@evil.example',
  'AS15169',
  '10.0.0.0/8',
]

/** What a careless vendor does: quotes back everything it received, in the fields error parsers read. */
const echo =
  (status: number, extra: Partial<FakeReply> = {}) =>
  (req: RecordedRequest): FakeReply => {
    const seen = `${req.method} ${req.url} ${JSON.stringify(req.headers)} ${req.body}`
    return {
      status,
      json: {
        message: `rejected: ${seen}`,
        error: { message: seen, code: seen },
        detail: seen,
        errors: [{ detail: seen }],
      },
      ...extra,
    }
  }

const modes: { name: string; reply: (req: RecordedRequest) => FakeReply }[] = [
  { name: '401', reply: echo(401) },
  { name: '403', reply: echo(403) },
  { name: '500', reply: echo(500) },
  { name: '429', reply: echo(429, { headers: { 'retry-after': '0' } }) },
  {
    name: '200 garbage',
    reply: (req) => ({
      status: 200,
      body: `<html>${JSON.stringify(req.headers)}</html>`,
      headers: { 'content-type': 'application/json' },
    }),
  },
  { name: '400', reply: echo(400) },
  { name: '404', reply: echo(404) },
]

const leaksIn = (text: string): string[] => markers.filter((m) => text.includes(m))

t.test('no secret in any reply or log line, whatever vendors and the platform answer', async (t) => {
  const vendor = await startFakeVendor(t)
  const env: Record<string, string> = { LOG_LEVEL: 'trace', RUN_TIMEOUT_MS: '3000', RUN_RATE_LIMIT: 'off' }
  for (const name of secretEnvs) env[name] = markerOf(name)
  // REDIS_URL carries its password: a real Redis that asks for it, so the store works with the marker as password.
  env['REDIS_URL'] = (await startRedis(t, { password: markerOf('REDIS_URL') })).url
  for (const name of baseUrlEnvs) env[name] = vendor.url
  env['TC_API_PATH'] = vendor.url
  env['TC_API_ACCESS_ID'] = 'access-id-not-secret'
  const { app, logs } = await startApp(t, env)
  const auth = { authorization: `Bearer ${markerOf('RUN_TOKEN')}` }

  const replies: string[] = []
  const text = (res: { statusCode: number; body: string; headers: Record<string, unknown> }): string =>
    `${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}`
  const record = (res: { statusCode: number; body: string; headers: Record<string, unknown> }): void =>
    void replies.push(text(res))

  for (const mode of modes) {
    vendor.fallback(mode.reply)
    // The per-request key first: once the vendor has failed a few times its circuit opens and calls stop.
    const withParam = await app.inject({
      method: 'POST',
      url: '/run',
      headers: auth,
      payload: {
        indicator: '8.8.8.8',
        sources: 'virustotal',
        virustotal_api_key: PARAM_KEY_MARKER,
        force_refresh: 'true',
      },
    })
    t.ok([200, 502].includes(withParam.statusCode), 'a run reply: passed, or failed by its sources (502)')
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      headers: auth,
      payload: { indicator: INDICATORS, sources: ALL_SOURCES, force_refresh: true, write_note: true },
    })
    t.ok([200, 502].includes(res.statusCode), `mode ${mode.name}: a run reply, never an error page`)
    const modeReplies = [text(withParam), text(res)].join('\n')
    t.same(leaksIn(modeReplies), [], `vendors answering ${mode.name}: no marker in the replies`)
    replies.push(modeReplies)
  }
  // Callers that get it wrong, and the open routes.
  record(await app.inject({ method: 'POST', url: '/run', payload: { indicator: '8.8.8.8' } }))
  record(
    await app.inject({
      method: 'POST',
      url: '/run',
      headers: { authorization: 'Bearer not-the-token' },
      payload: { indicator: '8.8.8.8' },
    }),
  )
  record(
    await app.inject({
      method: 'POST',
      url: '/run',
      headers: auth,
      payload: { indicator: '8.8.8.8', virustotal_api_key: 42 },
    }),
  )
  record(await app.inject({ method: 'POST', url: '/run', headers: auth, payload: '{"indicator": ' }))
  for (const url of ['/health', '/metrics', '/contract', '/docs/json']) record(await app.inject({ method: 'GET', url }))

  // The secrets really were in play: the fakes received them.
  const sent = vendor.requests.map((r) => `${r.url} ${JSON.stringify(r.headers)} ${r.body}`).join('\n')
  // (TC_API_SECRET_KEY only signs, and TC_TOKEN is unused while the HMAC pair is set: neither is sent as is.)
  for (const name of ['VIRUSTOTAL_API_KEY', 'ABUSEIPDB_API_KEY', 'GREYNOISE_API_KEY', 'OTX_API_KEY']) {
    t.ok(sent.includes(markerOf(name)), `${name} was sent to its vendor`)
  }
  t.ok(sent.includes(PARAM_KEY_MARKER), 'the per-request key was sent')
  t.ok(
    vendor.requests.some((r) => r.path.startsWith('/api/')),
    'write-back reached the platform fake',
  )

  record(await app.inject({ method: 'GET', url: '/health' }))
  record(await app.inject({ method: 'GET', url: '/metrics' }))

  t.ok(logs.length > 50, `captured ${logs.length} log lines`)
  t.same(leaksIn(replies.join('\n')), [], 'no marker in any reply body or header')
  const leakyLines = logs.map((l) => JSON.stringify(l)).filter((line) => leaksIn(line).length > 0)
  t.same(leakyLines.slice(0, 3), [], 'no marker in any log line')
})

t.test('no secret when the proxy (with a password) fails every call', async (t) => {
  const closed = new URL(await closedPortUrl())
  const env: Record<string, string> = { LOG_LEVEL: 'trace', RUN_TIMEOUT_MS: '3000', RUN_RATE_LIMIT: 'off' }
  for (const name of secretEnvs) env[name] = markerOf(name)
  delete env['REDIS_URL']
  Object.assign(env, {
    TC_PROXY_HOST: closed.hostname,
    TC_PROXY_PORT: closed.port,
    TC_PROXY_USERNAME: 'proxy-user',
    TC_PROXY_EXTERNAL: 'true',
    TC_PROXY_TC: 'true',
    TC_API_PATH: 'http://tc.invalid',
    TC_API_ACCESS_ID: 'access-id-not-secret',
  })
  const { app, logs } = await startApp(t, env)
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    headers: { authorization: `Bearer ${markerOf('RUN_TOKEN')}` },
    payload: { indicator: ['8.8.8.8', 'evil.example'], sources: ALL_SOURCES, force_refresh: true },
  })
  t.equal(res.statusCode, 200)
  t.match(res.body, /network/, 'the vendor calls failed at the proxy')
  t.same(leaksIn(`${JSON.stringify(res.headers)} ${res.body}`), [])
  t.same(
    logs
      .map((l) => JSON.stringify(l))
      .filter((line) => leaksIn(line).length > 0)
      .slice(0, 3),
    [],
  )
})

t.test('no secret when the shared store (REDIS_URL with a password) cannot be reached', async (t) => {
  const vendor = await startFakeVendor(t)
  const env: Record<string, string> = { LOG_LEVEL: 'trace', RUN_TIMEOUT_MS: '3000', RUN_RATE_LIMIT: '100/1m' }
  for (const name of secretEnvs) env[name] = markerOf(name)
  for (const name of baseUrlEnvs) env[name] = vendor.url
  env['REDIS_URL'] = `redis://:${markerOf('REDIS_URL')}@${new URL(await closedPortUrl()).host}/0`
  const { app, logs } = await startApp(t, env)
  const run = await app.inject({
    method: 'POST',
    url: '/run',
    headers: { authorization: `Bearer ${markerOf('RUN_TOKEN')}` },
    payload: { indicator: '8.8.8.8', sources: ALL_SOURCES, force_refresh: true, fail_on_error: false },
  })
  t.equal(run.statusCode, 200, 'the run is answered without Redis')
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.match(health.json(), { status: 'degraded', sharedStore: { status: 'degraded' } }, 'the missing Redis is reported')
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  for (const res of [run, health, metrics])
    t.same(leaksIn(`${JSON.stringify(res.headers)} ${res.body}`), [], `${res.statusCode}: no marker`)
  t.same(
    logs
      .map((l) => JSON.stringify(l))
      .filter((line) => leaksIn(line).length > 0)
      .slice(0, 3),
    [],
    'no marker in the log',
  )
})
