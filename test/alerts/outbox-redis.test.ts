/**
 * The outbox in a real redis-server, shared by replicas: a dedup key is added once whoever raises it; two replicas
 * delivering at the same moment send one message (the claim is a compare-and-set); a sent key survives a new
 * connection; a lapsed claim is taken over.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadAlertConfig } from '../../src/alerts/config.js'
import { createOutbox } from '../../src/alerts/outbox.js'
import { openRedisEntryStore, redisDurability } from '../../src/alerts/outbox-redis.js'
import { SharedStore } from '../../src/state/store.js'
import { startRedis } from '../helpers/redis-server.js'
import { startApp } from '../helpers/app.js'
import { startFakeSlack, tempDir, testService } from './helpers.js'

const rule = {
  id: 'soc',
  service: 'verdict',
  minVerdict: 'malicious',
  destinations: { slackChannels: ['#soc'] },
}
const event = (value: string) => ({
  indicator: { type: 'Host', value },
  verdict: 'malicious',
  score: 90,
  rating: 4,
  confidence: 80,
  tags: [],
  because: [],
})

const connect = async (t: { teardown(fn: () => unknown): void }, url: string): Promise<SharedStore> => {
  const store = new SharedStore({ url, prefix: 'alerts-test:' })
  t.teardown(() => store.close())
  await store.whenReady(5_000)
  return store
}

t.test(
  'two replicas on one Redis: a key is added once, and delivered once even when both try at the same moment',
  async (t) => {
    const redis = await startRedis(t)
    const slack = await startFakeSlack(t)
    slack.answerPosts({ delayMs: 200, json: { ok: true, channel: '#soc', ts: '1.1' } })
    const [a, b] = await Promise.all([connect(t, redis.url), connect(t, redis.url)])
    const one = await testService({
      rules: [rule],
      outboxPath: '',
      entryStore: openRedisEntryStore(a),
      slackUrl: slack.url,
      groupWaitMs: 0,
    })
    const two = await testService({
      rules: [rule],
      outboxPath: '',
      entryStore: openRedisEntryStore(b),
      slackUrl: slack.url,
      groupWaitMs: 0,
    })
    const added = await Promise.all([
      one.service.observeRun([event('a.evil.test')]),
      two.service.observeRun([event('a.evil.test')]),
    ])
    t.same(added.sort(), [0, 1], 'one replica added it; the other found the key')
    const reports = await Promise.all([one.service.deliverDue(), two.service.deliverDue()])
    const outcomes = reports
      .flat()
      .map((r) => r.outcome)
      .sort()
    t.same(
      outcomes.filter((o) => o === 'sent'),
      ['sent'],
      'one replica sent it',
    )
    t.equal(slack.posts().length, 1, 'Slack got one message')
    const listing = await one.outbox.list({ limit: 10 })
    t.equal(listing.counts.sent, 1)
    t.equal(listing.counts.pending, 0)
    t.equal(listing.entries[0]?.receipt, '#soc/1.1')
  },
)

t.test('what Redis holds outlives the connection; a claim whose lease lapsed is taken over', async (t) => {
  const redis = await startRedis(t)
  const first = createOutbox(openRedisEntryStore(await connect(t, redis.url)))
  const entry = { key: 'k1', destination: { kind: 'email', target: 'soc@example.com', settings: 'soc@example.com' } }
  t.same(await first.add([entry], 1_000), ['k1'])
  const claimed = await first.claim(['k1'], 1_000, 61_000, 'm1')
  t.equal(claimed[0]?.state, 'sending')
  t.same(await first.claim(['k1'], 2_000, 62_000, 'm1'), [], 'a live claim cannot be taken twice')

  const second = createOutbox(openRedisEntryStore(await connect(t, redis.url)))
  t.same(await second.add([entry], 5_000), [], 'the key is remembered')
  t.same(
    (await second.due(30_000)).map((e) => e.key),
    [],
    'the lease still runs (this process holds it)',
  )
  t.same(
    (await second.due(61_000)).map((e) => e.key),
    ['k1'],
    'due once the lease lapsed',
  )
  const again = await second.claim(['k1'], 61_000, 121_000, 'm1')
  t.equal(again.length, 1)
  await first.settle(claimed, { state: 'dead', at: 62_000, reason: 'late' })
  t.equal(
    (await first.get('k1'))?.state,
    'sending',
    'the first claim lapsed and was taken over: its settle changes nothing',
  )
  await second.settle(again, { state: 'sent', at: 62_000, receipt: 'm1', groupSize: 1 })
  await first.settle(claimed, { state: 'dead', at: 63_000, reason: 'late' })
  const final = await first.get('k1')
  t.equal(final?.state, 'sent', 'a settle on an entry no longer in sending changes nothing')
  t.equal(final?.attempts, 2, 'both claims counted: it may have gone out twice')
  t.same((await first.list({ limit: 10 })).counts, { pending: 0, sending: 0, sent: 1, failed: 0, dead: 0, silenced: 0 })
  t.same((await first.list({ limit: 0 })).entries, [], 'a limit of 0 lists no entry (the counts only)')
  await first.setMeta('checkpoint:watchlist:x', '2026-12-01T00:00:00Z')
  t.equal(await second.meta('checkpoint:watchlist:x'), '2026-12-01T00:00:00Z')
  t.equal(await first.prune(62_000), 0, 'retention counts from when it became final')
  t.equal(await first.prune(62_001), 1)
  t.equal(await first.get('k1'), undefined)
  t.same((await first.list({ limit: 10 })).counts.sent, 0, 'and the state set forgot it too')
})

t.test(
  'Redis away: a raised alert waits in memory, goes into the outbox when Redis is back, and is delivered',
  async (t) => {
    const redis = await startRedis(t)
    const slack = await startFakeSlack(t)
    const store = await connect(t, redis.url)
    const s = await testService({
      rules: [rule],
      outboxPath: '',
      entryStore: openRedisEntryStore(store),
      slackUrl: slack.url,
      groupWaitMs: 0,
    })
    await redis.stop()
    await t.rejects(s.service.observeRun([event('a.evil.test')]), /kept in memory until it answers/)
    t.equal(s.service.backlog(), 1)
    await t.rejects(s.service.deliverDue(), 'the round fails while Redis is away; the alert stays in memory')
    t.equal(s.service.backlog(), 1)
    await redis.restart()
    await store.whenReady(10_000)
    t.same(
      (await s.service.deliverDue()).map((r) => r.outcome),
      ['sent'],
    )
    t.equal(s.service.backlog(), 0)
    t.equal(slack.accepted().length, 1)
  },
)

t.test('with Redis gone, every outbox command fails loudly and is counted under its operation', async (t) => {
  const redis = await startRedis(t)
  const failed: string[] = []
  const store = new SharedStore({
    url: redis.url,
    prefix: 'alerts-test:',
    onError: (operation) => failed.push(operation),
  })
  t.teardown(() => store.close())
  await store.whenReady(5_000)
  const outbox = createOutbox(openRedisEntryStore(store))
  t.same(
    await outbox.add([{ key: 'k1', destination: { kind: 'email', target: 'soc@example.com', settings: 'x' } }], 1_000),
    ['k1'],
  )
  t.same(failed, [], 'nothing failed while Redis answered')
  await redis.stop()
  await t.rejects(outbox.due(30_000))
  await t.rejects(outbox.list({ limit: 10 }))
  await t.rejects(outbox.get('k1'))
  for (const operation of ['outbox_due', 'outbox_list', 'outbox_mget'])
    t.ok(failed.includes(operation), `${operation} counted`)
})

t.test(
  'Redis without an append-only file is said not durable; with one, acknowledged alerts survive a crash',
  async (t) => {
    const plain = await startRedis(t)
    const loose = await redisDurability(await connect(t, plain.url))
    t.equal(loose.durable, false)
    t.match(loose.detail, 'appendonly no')
    t.match(loose.detail, 'appendonly yes', 'and it says what to set')

    const aof = await startRedis(t, { args: ['--appendonly', 'yes', '--appendfsync', 'always'] })
    const store = await connect(t, aof.url)
    t.same(await redisDurability(store), {
      durable: true,
      detail: 'Redis keeps an append-only file (appendonly yes)',
    })
    const slack = await startFakeSlack(t)
    const s = await testService({
      rules: [rule],
      outboxPath: '',
      entryStore: openRedisEntryStore(store),
      slackUrl: slack.url,
    })
    t.equal(await s.service.observeRun([event('a.evil.test'), event('b.evil.test')]), 2, 'acknowledged')
    await aof.stop() // SIGKILL: a crash
    await aof.restart()
    await store.whenReady(10_000)
    t.same((await s.outbox.list({ limit: 0 })).counts.pending, 2, 'both still pending after the restart')
    t.equal(await s.service.observeRun([event('a.evil.test')]), 0, 'and the dedup memory too')

    // The same crash without the append-only file loses them: what the warning is about.
    const lossy = await connect(t, plain.url)
    const l = createOutbox(openRedisEntryStore(lossy))
    await l.add([{ key: 'k', destination: { kind: 'email', target: 'a@b.test', settings: 'a@b.test' } }], 1)
    await plain.stop()
    await plain.restart()
    await lossy.whenReady(10_000)
    t.equal(await l.get('k'), undefined, 'default persistence lost an acknowledged entry')
  },
)

t.test('a Redis outbox shows its warning in GET /alerts and /health', async (t) => {
  const redis = await startRedis(t)
  const dir = tempDir(t)
  const file = join(dir, 'rules.json')
  writeFileSync(file, JSON.stringify({ rules: [{ ...rule, destinations: { webhooks: 'https://hooks.test/a' } }] }))
  const env = { ALERTS_CONFIG: file, ALERTS_TOKEN: 'alerts-token-0123456789' }
  const config = await loadAlertConfig(env, dir)
  if (config === undefined) throw new Error('no alert config')
  const { app } = await startApp(t, { REDIS_URL: redis.url }, { alerts: { config, env } })
  const health = (await app.inject({ url: '/health' })).json() as { warnings: string[]; alerts: { warning?: string } }
  t.match(health.alerts.warning, 'appendonly no')
  t.ok(
    health.warnings.some((w) => w.includes('appendonly yes')),
    'among the service warnings too',
  )
  const listing = await app.inject({ url: '/alerts', headers: { authorization: 'Bearer alerts-token-0123456789' } })
  t.match((listing.json() as { warnings: string[] }).warnings[0], 'a Redis restart loses')
})
