/**
 * GET /status.json against real traffic: runs counted by verdict, each source's quota used and left as the vendor's
 * windows hold it, a 429 shown as a pause until its end, the key never shown (its fingerprint only); and the guard:
 * loopback clients without a token, anyone else with STATUS_TOKEN, a foreign Host refused.
 */
import t from 'tap'
import { keyPrint } from '../../src/state/key-print.js'
import type { StatusReply } from '../../src/schemas/status.js'
import { startApp } from '../helpers/app.js'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { startRedis } from '../helpers/redis-server.js'

/** Until the app's Redis connection is up (the service starts without waiting for it). */
const waitReady = async (app: Awaited<ReturnType<typeof startApp>>['app']): Promise<void> => {
  for (let i = 0; i < 200 && app.enrichment.shared.state().status !== 'ready'; i++)
    await new Promise((r) => setTimeout(r, 25))
}

const INTERNETDB_BODY = { cpes: [], hostnames: [], ip: '198.51.100.7', ports: [443], tags: [], vulns: [] }
const GREYNOISE_KEY = 'gn-secret-key-0123456789'

t.test('the figures follow the traffic: runs by verdict, quota used and left, a 429 pause', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', /^\/198\.51\.100\.\d+$/, { json: INTERNETDB_BODY })
  vendor.route('GET', /^\/v3\/community\//, { status: 429, headers: { 'retry-after': '120' }, json: {} })
  const { app } = await startApp(t, {
    INTERNETDB_BASE_URL: vendor.url,
    INTERNETDB_RATE_LIMIT: '10/1m',
    GREYNOISE_BASE_URL: vendor.url,
    GREYNOISE_API_KEY: GREYNOISE_KEY,
  })
  const run = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/run', payload })
  for (const ip of ['198.51.100.7', '198.51.100.8', '198.51.100.9'])
    t.equal((await run({ indicator: ip, sources: 'internetdb' })).statusCode, 200)
  await run({ indicator: 'evil.example', sources: 'classify' })
  const paused = await run({ indicator: '198.51.100.10', sources: 'greynoise' })
  t.equal(paused.statusCode, 502, 'its only source failed (rate_limited)')

  const res = await app.inject({ method: 'GET', url: '/status.json' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const status = res.json<StatusReply>()
  t.same(
    Object.keys(status).filter((k) => ['sources', 'runs', 'feeds', 'alerts', 'sharedStore', 'warnings'].includes(k))
      .length,
    6,
  )
  t.equal(status.runs.runs, 5, 'every /run of the hour')
  t.equal(status.runs.indicators, 5)
  t.equal(
    Object.values(status.runs.byVerdict).reduce((a, b) => a + b, 0),
    5,
    'each indicator counted once under its verdict',
  )
  t.equal(status.runs.perMinute.length, 60, 'one entry per minute of the hour')
  t.equal(
    status.runs.perMinute.reduce((n, m) => n + m.runs, 0),
    5,
    'and the minutes add up to the hour',
  )
  t.type(status.runs.p50Ms, 'number')

  const internetdb = status.sources.find((s) => s.id === 'internetdb')
  t.match(internetdb, { state: 'ok', lookups: 3, ok: 3, failed: 0, circuit: 'closed' })
  t.same(internetdb?.quota, [
    { key: 'nokey', windows: [{ limit: '10/1m', requests: 10, perSeconds: 60, used: 3, left: 7 }] },
  ])
  t.type(internetdb?.p95Ms, 'number')

  const greynoise = status.sources.find((s) => s.id === 'greynoise')
  t.equal(greynoise?.state, 'paused', 'a 429 with Retry-After pauses the key')
  t.equal(greynoise?.quota[0]?.key, keyPrint(GREYNOISE_KEY), 'the key by its fingerprint')
  const until = Date.parse(greynoise?.quota[0]?.pausedUntil ?? '')
  t.ok(until > Date.now() + 100_000 && until <= Date.now() + 121_000, 'paused until the Retry-After ends')
  t.notMatch(res.body, GREYNOISE_KEY, 'the key itself is nowhere in the status')

  t.match(
    status.sources.find((s) => s.id === 'virustotal'),
    { state: 'not_configured' },
  )
  t.same(status.feeds, { enabled: false, feeds: [] })
  t.match(status.alerts, { enabled: false })
  t.same(status.sharedStore, { status: 'off' })
})

t.test('the page and its files are served by the service itself', async (t) => {
  const { app } = await startApp(t)
  const page = await app.inject({ method: 'GET', url: '/status' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  const files = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string)
  t.same(files.sort(), [
    '/status/assets/status.css',
    '/status/assets/status.js',
    '/status/assets/uPlot.iife.min.js',
    '/status/assets/uPlot.min.css',
  ])
  for (const file of files) {
    const res = await app.inject({ method: 'GET', url: file })
    t.equal(res.statusCode, 200, file)
    t.ok(res.body.length > 500, `${file} has a body`)
  }
  t.equal((await app.inject({ method: 'GET', url: '/status/assets/nothing.js' })).statusCode, 404)
  t.match(page.headers['content-security-policy'], /script-src 'self'/, 'no script from anywhere else')
})

t.test('the guard: loopback open, off-loopback only with STATUS_TOKEN, a foreign Host refused', async (t) => {
  const open = await startApp(t)
  const from = (remoteAddress: string, headers: Record<string, string> = {}) =>
    open.app.inject({ method: 'GET', url: '/status.json', remoteAddress, headers })
  t.equal((await from('127.0.0.1')).statusCode, 200)
  const offLoopback = await from('192.0.2.10')
  t.equal(offLoopback.statusCode, 403)
  t.match(offLoopback.json(), { error: { code: 'STATUS_LOCKED', message: /STATUS_TOKEN/ } })
  const rebound = await from('127.0.0.1', { host: 'attacker.example' })
  t.equal(rebound.statusCode, 421, 'a page rebinding its name to this address is refused')
  t.equal(
    (await open.app.inject({ method: 'GET', url: '/status', headers: { host: 'attacker.example' } })).statusCode,
    421,
  )

  const token = 'status-token-0123456789'
  const locked = await startApp(t, { STATUS_TOKEN: token, PUBLIC_URL: 'https://enrich.example.com' })
  const ask = (headers: Record<string, string>) =>
    locked.app.inject({ method: 'GET', url: '/status.json', remoteAddress: '192.0.2.10', headers })
  t.equal((await ask({ host: 'enrich.example.com' })).statusCode, 401)
  t.equal((await ask({ host: 'enrich.example.com', authorization: 'Bearer wrong-token-000' })).statusCode, 401)
  const shown = await ask({ host: 'enrich.example.com', authorization: `Bearer ${token}` })
  t.equal(shown.statusCode, 200)
  t.notMatch(shown.body, token)
})

t.test('with Redis: the shared store shown, and a warning while Redis keeps no append-only file', async (t) => {
  const bare = await startRedis(t)
  const { app } = await startApp(t, { REDIS_URL: bare.url })
  await waitReady(app)
  const status = (await app.inject({ method: 'GET', url: '/status.json' })).json<StatusReply>()
  t.same(status.sharedStore, { status: 'ready' })
  t.match(status.warnings, [/appendonly no.*loses the feed state/])

  const durable = await startRedis(t, { args: ['--appendonly', 'yes'] })
  const second = await startApp(t, { REDIS_URL: durable.url })
  await waitReady(second.app)
  const shown = (await second.app.inject({ method: 'GET', url: '/status.json' })).json<StatusReply>()
  t.same(shown.warnings, [], 'an append-only Redis: no warning')
})

t.test("two replicas on one Redis: each shows the fleet's count of the service's key", async (t) => {
  const redis = await startRedis(t, { args: ['--appendonly', 'yes'] })
  const vendor = await startFakeVendor(t)
  vendor.route('GET', /^\/198\.51\.100\.\d+$/, { json: INTERNETDB_BODY })
  const env = { REDIS_URL: redis.url, INTERNETDB_BASE_URL: vendor.url, INTERNETDB_RATE_LIMIT: '10/1m' }
  const [a, b] = await Promise.all([startApp(t, env), startApp(t, env)])
  if (a === undefined || b === undefined) throw new Error('two replicas')
  await Promise.all([waitReady(a.app), waitReady(b.app)])
  for (const ip of ['198.51.100.21', '198.51.100.22', '198.51.100.23'])
    await a.app.inject({ method: 'POST', url: '/run', payload: { indicator: ip, sources: 'internetdb' } })
  const seen = (await b.app.inject({ method: 'GET', url: '/status.json' })).json<StatusReply>()
  const internetdb = seen.sources.find((s) => s.id === 'internetdb')
  t.same(
    internetdb?.quota,
    [{ key: 'nokey', windows: [{ limit: '10/1m', requests: 10, perSeconds: 60, used: 3, left: 7 }] }],
    'the replica that made no call sees the three the other made',
  )
  t.equal(internetdb?.lookups, 0, 'its own lookups are its own')
})
