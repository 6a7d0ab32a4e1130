/**
 * The orchestrator's probes: /health/live while the process answers; /health/ready while it takes work, degraded (and
 * still ready) while Redis is away, 503 while it drains.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startApp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { startFakeInternetdb } from '../sources/internetdb/fake-internetdb.js'

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10)
}

t.test('live and ready; Redis away: degraded but live and ready; draining: not ready', async (t) => {
  const redis = await startRedis(t)
  const { app } = await startApp(t, { REDIS_URL: redis.url })
  t.same((await app.inject({ url: '/health/live' })).json(), { status: 'live' })
  for (
    let i = 0;
    i < 100 && (await app.inject({ url: '/health/ready' })).json<{ status: string }>().status !== 'ready';
    i++
  )
    await sleep(50)
  t.same((await app.inject({ url: '/health/ready' })).json(), { status: 'ready' })

  await redis.stop()
  let ready = (await app.inject({ url: '/health/ready' })).json<{ status: string; reason?: string }>()
  for (let i = 0; i < 100 && ready.status !== 'degraded'; i++) {
    await sleep(50)
    ready = (await app.inject({ url: '/health/ready' })).json()
  }
  t.equal(ready.status, 'degraded', 'Redis away: degraded')
  t.ok(ready.reason !== undefined && ready.reason.length > 0, 'and says why')
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200, 'still ready: it serves from its fallbacks')
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)

  await app.close()
})

t.test('draining: a closing instance is not ready while it finishes the runs in flight', async (t) => {
  const fake = await startFakeInternetdb(t)
  fake.next({ delayMs: 1_500, status: 404, json: { detail: 'No information available' } })
  const { app } = await startApp(t, { INTERNETDB_BASE_URL: fake.baseUrl })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const slow = fetch(`${url}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ indicator: '198.51.100.7', sources: 'internetdb' }),
  })
  await until(() => fake.vendor.requests.length === 1)
  const closing = app.close()
  await sleep(50)
  // A draining instance takes no new connection (refused), and on one it still has, answers 503.
  const ready = await fetch(`${url}/health/ready`).catch(() => 'refused' as const)
  t.ok(
    ready === 'refused' || ready.status === 503,
    `draining: not ready (${ready === 'refused' ? ready : ready.status})`,
  )
  t.equal((await slow).status, 200, 'the run in flight finished')
  await closing
})
