/**
 * The SQLite outbox: shared by two openers (as the service and `npm run alerts` share it), private to its owner
 * (0600, side files too), a re-armed key, retention, and an earlier version's journal imported once.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { importJournal, takeJournal } from '../../src/alerts/journal-import.js'
import { createOutbox } from '../../src/alerts/outbox.js'
import { openSqliteEntryStore } from '../../src/alerts/outbox-sqlite.js'
import { tempDir } from './helpers.js'

const destination = { kind: 'email', target: 'soc@example.com', settings: 'soc@example.com' }
const entry = (key: string) => ({ key, destination })
const alert = (value: string) => ({
  id: `id-${value}`,
  rule: 'r',
  service: 'verdict',
  type: 'verdict',
  indicator: { type: 'Host', value },
  verdict: 'malicious',
  reason: 'x',
  observedAt: '2026-12-01T00:00:00Z',
})

t.test("two openers of one file see each other's changes, and only one claims an entry", async (t) => {
  const path = join(tempDir(t), 'outbox.db')
  const a = createOutbox(openSqliteEntryStore(path))
  const b = createOutbox(openSqliteEntryStore(path))
  t.teardown(() => Promise.all([a.close(), b.close()]))
  t.same(await a.add([entry('k1'), entry('k1')], 1_000), ['k1'], 'a key twice in one add is added once')
  t.same(await b.add([entry('k1'), entry('k2')], 1_000), ['k2'], "b knows a's key")
  t.same((await b.due(1_000)).map((e) => e.key).sort(), ['k1', 'k2'])
  const [byA, byB] = await Promise.all([a.claim(['k1'], 1_000, 61_000, 'm'), b.claim(['k1'], 1_000, 61_000, 'm')])
  t.equal((byA?.length ?? 0) + (byB?.length ?? 0), 1, 'one claim wins')
  t.equal((byA[0] ?? byB[0])?.attempts, 1, 'a claim counts as an attempt')
  t.equal((byA[0] ?? byB[0])?.messageId, 'm')
  await a.setMeta('checkpoint:watchlist:x', '2026-12-01T00:00:00Z')
  t.equal(await b.meta('checkpoint:watchlist:x'), '2026-12-01T00:00:00Z')
  await a.setMeta('silence:2', 'b')
  await a.setMeta('silence:1', 'a')
  await a.setMeta('silencer', 'not one')
  t.same(await b.listMeta('silence:'), [
    ['silence:1', 'a'],
    ['silence:2', 'b'],
  ])
  await b.deleteMeta('silence:1')
  t.same(await a.listMeta('silence:'), [['silence:2', 'b']])
})

t.test('a killed process loses nothing it acknowledged: the outbox is on disk', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'outbox.db')
  const script = `
    import { createOutbox } from ${JSON.stringify(new URL('../../src/alerts/outbox.js', import.meta.url).href)}
    import { openSqliteEntryStore } from ${JSON.stringify(new URL('../../src/alerts/outbox-sqlite.js', import.meta.url).href)}
    const o = createOutbox(openSqliteEntryStore(${JSON.stringify(path)}))
    await o.add([{ key: 'k1', destination: ${JSON.stringify(destination)} }], 1000)
    process.kill(process.pid, 'SIGKILL')
  `
  const file = join(dir, 'write.mts')
  writeFileSync(file, script)
  const run = spawnSync(process.execPath, [...process.execArgv, file], { encoding: 'utf8' })
  t.equal(run.signal, 'SIGKILL', `the writer died without closing anything ${run.stderr}`)
  const after = createOutbox(openSqliteEntryStore(path))
  t.teardown(() => after.close())
  t.same(
    (await after.due(1_000)).map((e) => e.key),
    ['k1'],
  )
})

t.test('the file and its WAL side files are private (0600), its new directory 0700', async (t) => {
  const path = join(tempDir(t), 'private', 'outbox.db')
  const o = createOutbox(openSqliteEntryStore(path))
  t.teardown(() => o.close())
  await o.add([entry('k1')], 1_000)
  for (const p of [path, `${path}-wal`, `${path}-shm`])
    if (existsSync(p)) t.equal(statSync(p).mode & 0o777, 0o600, `${p.slice(-10)} is 0600`)
  t.ok(existsSync(`${path}-wal`), 'WAL is on')
  t.equal(statSync(join(path, '..')).mode & 0o777, 0o700)
  const loose = join(tempDir(t), 'loose.db')
  writeFileSync(loose, '', { mode: 0o644 })
  const reopened = createOutbox(openSqliteEntryStore(loose))
  t.teardown(() => reopened.close())
  t.equal(statSync(loose).mode & 0o777, 0o600, 'an existing file is made private too')
})

t.test(
  'retention: final entries older than the cut are deleted, open ones never; a sent mail keeps no body',
  async (t) => {
    const o = createOutbox(openSqliteEntryStore(join(tempDir(t), 'outbox.db')))
    t.teardown(() => o.close())
    await o.add(
      [
        { key: 'old', destination, alert: alert('a') },
        { key: 'open', destination, alert: alert('b') },
        {
          key: 'mail',
          destination,
          email: { to: 'soc@example.com', subject: 'S', text: 'secret body', html: '<p>x</p>' },
        },
      ],
      1_000,
    )
    const claimed = await o.claim(['old', 'mail'], 1_000, 61_000, 'm')
    await o.settle(claimed, { state: 'sent', at: 2_000, receipt: 'r', groupSize: 2 })
    t.same(
      (await o.get('mail'))?.email,
      { to: 'soc@example.com', subject: 'S', text: '' },
      'the text went with sending',
    )
    t.equal(await o.prune(2_000), 0, 'nothing settled before the cut')
    t.equal(await o.prune(2_001), 2, 'both sent entries are past it')
    t.equal(await o.get('old'), undefined)
    t.equal((await o.get('open'))?.state, 'pending', 'a pending entry is never pruned, however old')
  },
)

t.test('repeatInterval: a sent key is re-armed once the interval passed, with a new alert id', async (t) => {
  const o = createOutbox(openSqliteEntryStore(join(tempDir(t), 'outbox.db')))
  t.teardown(() => o.close())
  const add = (at: number) => o.add([{ key: 'k', destination, alert: alert('a'), rearmAfterMs: 3_600_000 }], at)
  t.same(await add(0), ['k'])
  await o.settle(await o.claim(['k'], 0, 60_000, 'm'), { state: 'sent', at: 1_000, receipt: 'r', groupSize: 1 })
  t.same(await add(1_800_000), [], 'within the interval: the same news')
  t.same(await add(3_601_000), ['k'], 'past it: news again')
  const e = await o.get('k')
  t.equal(e?.state, 'pending')
  t.equal(e?.repeats, 1)
  t.equal(e?.alert?.id, 'id-a-r1', 'a receiver tells the repeat from the first')
  t.same(await add(3_602_000), [], 'a pending repeat is not re-armed again')
})

t.test("an earlier version's journal is imported once: pending stays pending, sent stays remembered", async (t) => {
  const dir = tempDir(t)
  mkdirSync(join(dir, 'var'))
  const journal = join(dir, 'var', 'outbox.jsonl')
  const lines = [
    { m: ['checkpoint:watchlist:w', '2026-11-30T00:00:00Z'] },
    {
      e: {
        key: 'p1',
        destination: { kind: 'slackChannel', target: '#soc' },
        alert: {
          ruleId: 'soc',
          service: 'verdict',
          indicator: { type: 'Host', value: 'a.test' },
          verdict: 'malicious',
          reason: 'r',
          observedAt: 'x',
        },
        state: 'pending',
        createdAt: 1,
        notBefore: 1,
        attempts: 0,
      },
    },
    {
      e: {
        key: 's1',
        destination: { kind: 'webhook', target: 'https://hooks.test/x?token=t' },
        alert: {
          ruleId: 'soc',
          service: 'verdict',
          indicator: { type: 'Host', value: 'b.test' },
          verdict: 'malicious',
          reason: 'r',
          observedAt: 'x',
        },
        state: 'sent',
        createdAt: 1,
        notBefore: 1,
        attempts: 1,
        sentAt: 5,
      },
    },
    {
      e: {
        key: 'f1',
        destination: { kind: 'email', target: 'a@x.test,b@x.test' },
        email: { to: ['a@x.test', 'b@x.test'], subject: 'S', text: 'T' },
        state: 'failed',
        createdAt: 1,
        notBefore: 1,
        attempts: 1,
      },
    },
  ]
  writeFileSync(journal, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"e":{"key":"cut`)
  const path = join(dir, 'var', 'outbox.db')
  const taken = takeJournal(path)
  t.equal(taken, `${journal}.imported`, 'the journal beside the new default is found and moved aside')
  t.notOk(existsSync(journal))
  const store = openSqliteEntryStore(path)
  t.equal(await importJournal(taken ?? '', store), 4, 'a mail to two became two entries; the cut line is skipped')
  const o = createOutbox(store)
  t.teardown(() => o.close())
  const pending = await o.get('p1')
  t.same(pending?.destination, { kind: 'slackChannels', target: '#soc', settings: '#soc' })
  t.equal(pending?.alert?.rule, 'soc')
  t.match(pending?.alert?.id, /^[0-9a-f]{32}$/)
  t.equal((await o.get('s1'))?.destination.kind, 'webhooks')
  t.equal((await o.get('s1'))?.settledAt, 5)
  t.same([(await o.get('f1:0'))?.email?.to, (await o.get('f1:1'))?.email?.to], ['a@x.test', 'b@x.test'])
  t.equal(await o.meta('checkpoint:watchlist:w'), '2026-11-30T00:00:00Z')
  t.equal(takeJournal(path), undefined, 'once: nothing is imported again')
})
