/**
 * The /run limit (RUN_RATE_LIMIT) counted once for the fleet through a real redis-server; a caller is its bearer
 * token, else its address, and the forwarded address only from a TRUST_PROXY load balancer.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startApp, type TestApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

type App = TestApp['app']

const run = (app: App, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
  app.inject({
    method: 'POST',
    url: '/run',
    remoteAddress,
    headers,
    payload: { indicator: '192.0.2.1', sources: 'classify' },
  })

const ready = async (app: App): Promise<void> => {
  for (let i = 0; i < 200; i++) {
    if ((await app.inject({ method: 'GET', url: '/health' })).json<{ status: string }>().status === 'ready') return
    await sleep(25)
  }
  throw new Error('not ready')
}

t.test('three replicas share one /run limit per caller', async (t) => {
  const redis = await startRedis(t)
  const apps: App[] = []
  for (let i = 0; i < 3; i++) apps.push((await startApp(t, { REDIS_URL: redis.url, RUN_RATE_LIMIT: '3/1m' })).app)
  for (const app of apps) await ready(app)
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await run(apps[i % 3] as App)).statusCode)
  t.same(statuses, [200, 200, 200, 429], 'the fourth call, on the first replica again, is over the fleet-wide limit')
  t.equal((await run(apps[1] as App, {}, '127.0.0.2')).statusCode, 200, 'another address has its own count')
})

t.test('keyed by the bearer token when there is one, by the address otherwise', async (t) => {
  const redis = await startRedis(t)
  const env = { REDIS_URL: redis.url, RUN_RATE_LIMIT: '2/1m', RUN_TOKEN: 'token-for-the-test' }
  const [a, b] = [(await startApp(t, env)).app, (await startApp(t, env)).app]
  await ready(a)
  await ready(b)
  const bearer = { authorization: 'Bearer token-for-the-test' }
  t.equal((await run(a, bearer, '10.0.0.1')).statusCode, 200)
  t.equal((await run(b, bearer, '10.0.0.2')).statusCode, 200)
  const third = await run(a, bearer, '10.0.0.3')
  t.equal(third.statusCode, 429, 'one token: one count, from whichever address')
  t.notMatch(third.body, /token-for-the-test/, 'the token is not in the reply')
})

t.test('TRUST_PROXY: the forwarded client address counts only when a named load balancer forwarded it', async (t) => {
  const trusting = (await startApp(t, { RUN_RATE_LIMIT: '1/1m', TRUST_PROXY: '127.0.0.1, 10.1.0.0/16' })).app
  const forwarded = (client: string) => ({ 'x-forwarded-for': client })
  t.equal((await run(trusting, forwarded('198.51.100.1'))).statusCode, 200)
  t.equal(
    (await run(trusting, forwarded('198.51.100.2'))).statusCode,
    200,
    'another client behind the same balancer: its own count',
  )
  t.equal((await run(trusting, forwarded('198.51.100.1'))).statusCode, 429)
  t.equal((await run(trusting, forwarded('198.51.100.3'), '203.0.113.66')).statusCode, 200)
  t.equal(
    (await run(trusting, forwarded('198.51.100.4'), '203.0.113.66')).statusCode,
    429,
    'not a named balancer: its header is ignored',
  )

  const plain = (await startApp(t, { RUN_RATE_LIMIT: '1/1m' })).app
  t.equal((await run(plain, forwarded('198.51.100.1'))).statusCode, 200)
  t.equal((await run(plain, forwarded('198.51.100.2'))).statusCode, 429, 'no TRUST_PROXY: forwarded headers ignored')
})
