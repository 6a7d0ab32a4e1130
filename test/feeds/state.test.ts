/** The feed state's two engines behave the same: SQLite in a folder, and Redis (a real redis-server on loopback). */
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redisStateStore, sqliteStateStore, type FeedStateStore, type SentRecord } from '../../src/feed-job/state.js'
import { SharedStore } from '../../src/state/store.js'
import { startRedis } from '../helpers/redis-server.js'

const record = (i: number, extra: Partial<SentRecord> = {}): SentRecord => ({
  key: `CIDR|10.${i >> 8}.${i & 255}.0/24`,
  type: 'CIDR',
  summary: `10.${i >> 8}.${i & 255}.0/24`,
  hash: `h${i}`,
  sentAt: 1_000,
  seenAt: 1_000,
  ...extra,
})

const exercise = async (t: Test, store: FeedStateStore): Promise<void> => {
  t.equal(await store.meta('drop'), undefined, 'nothing yet')
  await store.record(
    'drop',
    Array.from({ length: 2_500 }, (_, i) => record(i)),
  )
  await store.saveMeta('drop', { owner: 'Acme', fetchedAt: 5, etag: '"v1"', held: { count: 2, reason: 'why' } })
  t.same(await store.meta('drop'), { owner: 'Acme', fetchedAt: 5, etag: '"v1"', held: { count: 2, reason: 'why' } })
  const found = await store.lookup('drop', [record(1).key, record(2_499).key, 'CIDR|nothing'])
  t.same([...found.keys()], [record(1).key, record(2_499).key], 'the ones that exist')
  let all = 0
  for await (const page of store.records('drop')) all += page.length
  t.equal(all, 2_500, 'every record, a page at a time')
  await store.touch('drop', [record(1).key], 9_000)
  t.equal((await store.lookup('drop', [record(1).key])).get(record(1).key)?.seenAt, 9_000)
  await store.touch('drop', [record(1).key], 8_000)
  t.equal((await store.lookup('drop', [record(1).key])).get(record(1).key)?.seenAt, 9_000, 'seen never moves back')
  await store.forget('drop', [record(1).key])
  t.equal((await store.lookup('drop', [record(1).key])).size, 0)
  t.equal((await store.lookup('other', [record(2).key])).size, 0, 'feeds apart')
  await store.reset('drop')
  t.equal(await store.meta('drop'), undefined)
  t.equal((await store.lookup('drop', [record(2).key])).size, 0)
}

t.test('SQLite: records, lookups, pages, touches, forgets; it survives a reopen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'feed-state-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = sqliteStateStore(dir)
  await exercise(t, store)
  await store.record('drop', [record(7)])
  await store.close()
  const reopened = sqliteStateStore(dir)
  t.equal((await reopened.lookup('drop', [record(7).key])).size, 1, 'on disk')
  await reopened.close()
})

t.test('Redis: the same, shared by every replica', async (t) => {
  const redis = await startRedis(t)
  const shared = new SharedStore({ url: redis.url, prefix: `t${process.pid}:` })
  t.teardown(() => shared.close())
  await shared.whenReady(5_000)
  await exercise(t, redisStateStore(shared))
})
