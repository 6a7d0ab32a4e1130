/**
 * The protective plugins: per-client rate limit on /run, security headers (with /docs still loadable under the
 * content security policy), and load shedding when the event loop lags.
 */
import t from 'tap'
import { loadServiceConfig, ConfigError } from '../../src/config/env.js'
import { SOURCE_DEFINITIONS } from '../../src/sources/registry.js'
import { HELMET_OPTIONS, helmetHeaders } from '../../src/plugins/external/helmet.js'
import { startApp } from '../helpers/app.js'

interface ErrorBody {
  error: { code: string; message: string; field: string; requestId: string }
}

const runPayload = { indicator: '8.8.8.8' }

t.test('RUN_RATE_LIMIT: the call over the limit gets 429 in the app error shape, with Retry-After', async (t) => {
  const { app } = await startApp(t, { RUN_RATE_LIMIT: '3/1m' })
  const statuses: number[] = []
  for (let i = 0; i < 3; i++)
    statuses.push((await app.inject({ method: 'POST', url: '/run', payload: runPayload })).statusCode)
  t.same(statuses, [200, 200, 200])
  const over = await app.inject({ method: 'POST', url: '/run', payload: runPayload })
  t.equal(over.statusCode, 429)
  t.match(over.headers['content-type'], /^application\/json/)
  const body = over.json<ErrorBody>()
  t.equal(body.error.code, 'TOO_MANY_REQUESTS')
  t.equal(body.error.field, '')
  t.match(body.error.message, /over the limit of 3\/1m calls to \/run; retry in/)
  t.ok(Number(over.headers['retry-after']) > 0, 'Retry-After says when to come back')
  t.equal(over.headers['x-ratelimit-limit'], '3')

  const other = await app.inject({ method: 'POST', url: '/run', payload: runPayload, remoteAddress: '10.9.8.7' })
  t.equal(other.statusCode, 200, 'the limit is per client address')
  for (let i = 0; i < 6; i++)
    t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'health is not limited')
})

t.test('the limit also counts callers without a valid token (no free guessing)', async (t) => {
  const { app } = await startApp(t, { RUN_RATE_LIMIT: '2/1m', RUN_TOKEN: 'correct-horse-battery' })
  const auth = { authorization: 'Bearer wrong-token-guess' }
  t.equal((await app.inject({ method: 'POST', url: '/run', payload: runPayload, headers: auth })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/run', payload: runPayload, headers: auth })).statusCode, 401)
  const third = await app.inject({ method: 'POST', url: '/run', payload: runPayload, headers: auth })
  t.equal(third.statusCode, 429)
  t.equal(third.json<ErrorBody>().error.code, 'TOO_MANY_REQUESTS')
})

t.test('RUN_RATE_LIMIT=off turns it off; a malformed value stops start-up naming it', async (t) => {
  const { app } = await startApp(t, { RUN_RATE_LIMIT: 'off' })
  for (let i = 0; i < 5; i++) {
    const res = await app.inject({ method: 'POST', url: '/run', payload: runPayload })
    t.equal(res.statusCode, 200)
    t.notOk(res.headers['x-ratelimit-limit'])
  }
  t.throws(() => loadServiceConfig({ RUN_RATE_LIMIT: 'lots' }, SOURCE_DEFINITIONS), ConfigError)
  t.throws(() => loadServiceConfig({ RUN_RATE_LIMIT: '0/1s' }, SOURCE_DEFINITIONS), /RUN_RATE_LIMIT/)
  t.same(
    loadServiceConfig({}, SOURCE_DEFINITIONS).runRateLimit,
    { requests: 120, perMs: 60_000 },
    'default 120 a minute',
  )
})

t.test('security headers on API replies and errors', async (t) => {
  const { app } = await startApp(t)
  const expected = await helmetHeaders(HELMET_OPTIONS)
  t.ok(Object.keys(expected).length >= 10, `helmet sets ${Object.keys(expected).length} headers`)
  for (const res of [
    await app.inject({ method: 'POST', url: '/run', payload: runPayload }),
    await app.inject({ method: 'POST', url: '/run', payload: { nope: 1 } }),
    await app.inject({ method: 'GET', url: '/health' }),
    await app.inject({ method: 'GET', url: '/no-such-route' }),
  ]) {
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${res.statusCode} ${res.raw.req.url}`)
    t.equal(res.headers['x-frame-options'], 'SAMEORIGIN')
    t.match(res.headers['content-security-policy'], /default-src 'self'/)
    t.match(res.headers['strict-transport-security'], /max-age=/)
    t.notOk(res.headers['x-powered-by'])
    for (const [name, value] of Object.entries(expected)) t.equal(res.headers[name], value, name)
  }
})

t.test('/docs still works under the content security policy', async (t) => {
  const { app } = await startApp(t)
  const page = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(page.statusCode, 200)
  const csp = String(page.headers['content-security-policy'])
  const directive = (name: string): string[] =>
    (new RegExp(`(?:^|;)\\s*${name} ([^;]*)`).exec(csp)?.[1] ?? '').trim().split(/\s+/)
  t.ok(directive('script-src').includes("'self'"), 'own scripts allowed')
  t.ok(directive('style-src').includes("'unsafe-inline'"), 'Swagger UI sets inline styles')
  t.ok(directive('img-src').includes('data:'), 'Swagger UI draws data: images')
  t.notMatch(csp, /upgrade-insecure-requests/, 'plain-HTTP deployments keep loading their assets')

  // The page may only use what the policy allows: no inline script, every asset from the service itself, served.
  const html = page.body
  const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].filter(
    (m) => (m[1] ?? '').trim() !== '',
  )
  t.same(inline, [], 'no inline scripts')
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string)
  t.ok(assets.length >= 4, 'the page names its scripts and styles')
  for (const asset of assets) {
    t.notMatch(asset, /^(https?:)?\/\//, `${asset} is same-origin`)
    const res = await app.inject({ method: 'GET', url: new URL(asset, 'http://service.local/docs/').pathname })
    t.equal(res.statusCode, 200, `${asset} is served`)
  }
  const spec = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(spec.statusCode, 200)
  t.ok(spec.json<{ paths: Record<string, unknown> }>().paths['/run'], 'the OpenAPI document describes /run')
})

const blockEventLoop = (ms: number): void => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    // busy on purpose: simulates a CPU-bound stall
  }
}

t.test('under pressure: 503 UNAVAILABLE with Retry-After, health included, then recovery', async (t) => {
  const { app } = await startApp(t, { MAX_EVENT_LOOP_DELAY_MS: '50' })
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
  // Stall the loop in long slices for over two sample intervals so at least one sample sees only stalls.
  const stallUntil = Date.now() + 2600
  while (Date.now() < stallUntil) {
    blockEventLoop(300)
    await new Promise((resolve) => setImmediate(resolve))
  }
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.equal(health.statusCode, 503, 'health reflects the overload')
  t.equal(health.headers['retry-after'], '10')
  const body = health.json<ErrorBody>()
  t.equal(body.error.code, 'UNAVAILABLE')
  t.match(body.error.message, /overloaded/)
  const run = await app.inject({ method: 'POST', url: '/run', payload: runPayload })
  t.equal(run.statusCode, 503)
  t.equal(run.json<ErrorBody>().error.code, 'UNAVAILABLE')

  // Idle for a little over two sample intervals: the next samples see no lag.
  await new Promise((resolve) => setTimeout(resolve, 2300))
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'recovers once the loop keeps up')
})
