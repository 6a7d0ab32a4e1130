/**
 * Three replicas (three buildApp instances) sharing one real redis-server on 127.0.0.1, in front of one fake
 * VirusTotal counting 4 calls a minute: one quota, one pause, one cache, one note, and Redis lost and found.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startApp, type TestApp } from '../helpers/app.js'
import { runReply } from '../helpers/run-reply.js'
import { startRedis, type RedisEndpoint } from '../helpers/redis-server.js'
import { GOOD_KEY, startFakeVirustotal, vtBody, type FakeVirustotal } from '../sources/virustotal/fake-virustotal.js'
import { ACCESS_ID, SECRET_KEY, startSandbox } from '../platform/harness.js'
import { SHARED_STORE_ERRORS_TOTAL } from '../../src/metrics.js'

type App = TestApp['app']

const replicas = async (
  t: Parameters<typeof startApp>[0],
  redis: RedisEndpoint,
  vt: FakeVirustotal,
  env: Record<string, string> = {},
): Promise<App[]> => {
  const apps: App[] = []
  for (let i = 0; i < 3; i++) {
    const { app } = await startApp(t, {
      REDIS_URL: redis.url,
      REPLICAS: '3',
      VIRUSTOTAL_BASE_URL: vt.baseUrl,
      VIRUSTOTAL_API_KEY: GOOD_KEY,
      VIRUSTOTAL_RATE_LIMIT: '4/1m',
      // A wait for the quota longer than the run has left is refused at once: the test never waits a minute.
      RUN_TIMEOUT_MS: '3000',
      RUN_RATE_LIMIT: 'off',
      ...env,
    })
    apps.push(app)
  }
  await Promise.all(apps.map((app) => untilHealth(app, 'ready')))
  return apps
}

const untilHealth = async (app: App, status: string): Promise<Record<string, unknown>> => {
  let body: Record<string, unknown> = {}
  for (let i = 0; i < 200; i++) {
    body = (await app.inject({ method: 'GET', url: '/health' })).json<Record<string, unknown>>()
    if (body['status'] === status) return body
    await sleep(25)
  }
  throw new Error(`health never said ${status}: ${JSON.stringify(body)}`)
}

const enrich = async (app: App, indicator: string, extra: Record<string, unknown> = {}) => {
  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator, sources: 'virustotal', fail_on_error: false, ...extra },
  })
  return { status: res.statusCode, reply: runReply(res) }
}

const ips = (n: number, base = 10): string[] => Array.from({ length: n }, (_, i) => `198.51.100.${base + i}`)

const known = (vt: FakeVirustotal, addresses: readonly string[]): void => {
  for (const ip of addresses) vt.object(`/ip_addresses/${ip}`, vtBody('ip-malicious'))
}

const vtCalls = (vt: FakeVirustotal): number => vt.vendor.requests.length

t.test(
  'one quota for the fleet: 12 lookups over 3 replicas, at most 4 reach the vendor; the others say why',
  async (t) => {
    const redis = await startRedis(t)
    const vt = await startFakeVirustotal(t)
    const apps = await replicas(t, redis, vt)
    const addresses = ips(12)
    known(vt, addresses)
    const answers = await Promise.all(addresses.map((ip, i) => enrich(apps[i % 3] as App, ip)))
    t.equal(vtCalls(vt), 4, 'the busiest 60 s window at the vendor holds 4 calls')
    t.equal(answers.length, 12, 'every request answered')
    const statuses = answers.map((a) => a.reply.outputs['enrich.results.virustotal.malicious'] !== undefined)
    t.equal(statuses.filter(Boolean).length, 4, 'four enriched')
    const skipped = answers.filter((a) => a.reply.outputs['enrich.results.virustotal.malicious'] === undefined)
    for (const a of skipped)
      t.match(JSON.stringify(a.reply.outputs), /quota \(4\/1m\) is spent/, 'a skip names the spent quota')
  },
)

t.test('a 429 with Retry-After on one replica holds all three', async (t) => {
  const redis = await startRedis(t)
  const vt = await startFakeVirustotal(t)
  const apps = await replicas(t, redis, vt, { VIRUSTOTAL_RATE_LIMIT: '100/1m' })
  const addresses = ips(4, 40)
  known(vt, addresses)
  vt.next({ status: 429, headers: { 'retry-after': '1' }, json: vtBody('quota-exceeded') })
  await enrich(apps[0] as App, addresses[0] as string)
  const pausedAt = vt.vendor.requests[0]?.arrivedAt ?? 0
  await Promise.all([1, 2, 3].map((i) => enrich(apps[i % 3] as App, addresses[i] as string)))
  const during = vt.vendor.requests.slice(1).filter((r) => r.arrivedAt - pausedAt < 990)
  t.equal(during.length, 0, 'no replica called during the second the vendor asked for')
  t.equal(vtCalls(vt), 5, 'the retry and the three others went out after it')
})

t.test('one cache: the second replica answers from what the first fetched; another key never gets it', async (t) => {
  const redis = await startRedis(t)
  const vt = await startFakeVirustotal(t)
  const [a, b, c] = await replicas(t, redis, vt)
  known(vt, ['203.0.113.5'])
  const first = await enrich(a as App, '203.0.113.5')
  const second = await enrich(b as App, '203.0.113.5')
  t.equal(vtCalls(vt), 1, 'one vendor call for both')
  t.equal(
    second.reply.outputs['enrich.results.virustotal.malicious'],
    first.reply.outputs['enrich.results.virustotal.malicious'],
  )
  t.match(JSON.stringify(second.reply.outputs), /cached/)
  await enrich(c as App, '203.0.113.5', { virustotal_api_key: 'another-key-000000' })
  t.equal(
    vtCalls(vt),
    2,
    "a request with another key goes to the vendor (and is refused there): the first key's finding is not served to it",
  )
  await enrich(c as App, '203.0.113.5')
  t.equal(vtCalls(vt), 2, "the first key's finding is still cached: another key emptied nothing")
  const refreshed = await enrich(b as App, '203.0.113.5', { force_refresh: true })
  t.equal(vtCalls(vt), 3, 'force_refresh goes to the vendor')
  t.notMatch(JSON.stringify(refreshed.reply.outputs), /"cached"/)
})

t.test('two replicas writing back the same note at once leave one note', async (t) => {
  const redis = await startRedis(t)
  const vt = await startFakeVirustotal(t)
  const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: '203.0.113.9' }] })
  const tc = { TC_API_PATH: sandbox.url, TC_API_ACCESS_ID: ACCESS_ID, TC_API_SECRET_KEY: SECRET_KEY }
  const [a, b] = await replicas(t, redis, vt, tc)
  const run = (app: App) =>
    app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: '203.0.113.9', sources: 'asn|classify|watchlist', write_note: true },
    })
  const [ra, rb] = await Promise.all([run(a as App), run(b as App)])
  const replies = [runReply(ra), runReply(rb)]
  t.same(
    replies.map((r) => r.outputs['enrich.results.writeback.status']),
    ['written', 'written'],
  )
  const id = Number(replies[0]?.outputs['enrich.results.writeback.indicator_id'])
  t.equal(sandbox.app.sandbox.store.postsFor(id).length, 1, 'one note')
  t.equal(
    replies.filter((r) => /already/.test(String(r.outputs['enrich.results.writeback.reason']))).length,
    1,
    'the other run found it',
  )
})

t.test(
  'Redis killed mid-run: every request answered, the quota still kept, and back to shared when Redis returns',
  async (t) => {
    const redis = await startRedis(t)
    const vt = await startFakeVirustotal(t)
    const apps = await replicas(t, redis, vt)
    const addresses = ips(12, 60)
    known(vt, addresses)
    await Promise.all(addresses.slice(0, 2).map((ip, i) => enrich(apps[i] as App, ip)))
    t.equal(vtCalls(vt), 2)
    await redis.stop()
    const answers = await Promise.all(addresses.slice(2).map((ip, i) => enrich(apps[i % 3] as App, ip)))
    t.equal(answers.length, 10, 'every request answered')
    for (const a of answers) t.ok([200, 502].includes(a.status) && a.reply.exitCode !== undefined, 'a run reply')
    t.ok(vtCalls(vt) <= 4, `the vendor saw ${vtCalls(vt)} calls in the window: still at most 4`)
    const degraded = await untilHealth(apps[0] as App, 'degraded')
    t.match(degraded['sharedStore'], { status: 'degraded' })
    const metrics = await (apps[0] as App).inject({ method: 'GET', url: '/metrics' })
    t.match(
      metrics.body,
      new RegExp(`${SHARED_STORE_ERRORS_TOTAL}\\{operation="eval"\\} [1-9]`),
      'the store errors are counted',
    )
    await redis.restart()
    for (const app of apps) await untilHealth(app, 'ready')
    t.pass('each replica reconnected by itself')
  },
)
