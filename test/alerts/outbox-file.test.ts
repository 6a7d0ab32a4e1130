/**
 * The file outbox's journal: shared by two openers (as the service and `npm run alerts` share it), a line cut short by
 * a crash cut off before the next append, compaction that another opener follows.
 */
import { appendFileSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { createOutbox } from '../../src/alerts/outbox.js'
import { openFileEntryStore, readOutboxFile } from '../../src/alerts/outbox-file.js'
import { tempDir } from './helpers.js'

const entry = (key: string) => ({ key, destination: { kind: 'email' as const, target: 'soc@example.com' } })

t.test("two openers of one file see each other's changes, and only one claims an entry", async (t) => {
  const path = join(tempDir(t), 'outbox.jsonl')
  const a = createOutbox(openFileEntryStore(path))
  const b = createOutbox(openFileEntryStore(path))
  t.same(await a.add([entry('k1'), entry('k1')], 1_000), ['k1'], 'a key twice in one add is added once')
  t.same(await b.add([entry('k1'), entry('k2')], 1_000), ['k2'], "b knows a's key")
  t.same((await b.due(1_000)).map((e) => e.key).sort(), ['k1', 'k2'])
  const [byA, byB] = await Promise.all([a.claim(['k1'], 1_000, 61_000), b.claim(['k1'], 1_000, 61_000)])
  t.equal((byA?.length ?? 0) + (byB?.length ?? 0), 1, 'one claim wins')
  await a.setCheckpoint('watchlist:x', '2026-12-01T00:00:00Z')
  t.equal(await b.checkpoint('watchlist:x'), '2026-12-01T00:00:00Z')
  await Promise.all([a.close(), b.close()])
})

t.test('a line cut short by a crash is ignored, and cut off before the next append', async (t) => {
  const path = join(tempDir(t), 'outbox.jsonl')
  const a = createOutbox(openFileEntryStore(path))
  await a.add([entry('k1')], 1_000)
  appendFileSync(path, '{"e":{"key":"half","desti')
  const b = createOutbox(openFileEntryStore(path))
  t.same(
    (await b.due(1_000)).map((e) => e.key),
    ['k1'],
  )
  await b.add([entry('k2')], 2_000)
  t.same(Object.keys(readOutboxFile(path).entries).sort(), ['k1', 'k2'], 'every line parses again')
  t.notMatch(readFileSync(path, 'utf8'), 'half')
})

t.test('compaction: many changes to few entries shrink the journal; another opener reads the new file', async (t) => {
  const path = join(tempDir(t), 'outbox.jsonl')
  const a = createOutbox(openFileEntryStore(path))
  const b = createOutbox(openFileEntryStore(path))
  await a.add([entry('k1')], 1_000)
  for (let i = 0; i < 1_100; i++) await a.setCheckpoint('watchlist:x', String(i))
  const lines = readFileSync(path, 'utf8').trim().split('\n').length
  t.ok(lines < 200, `compacted to ${lines} lines`)
  t.equal(await b.checkpoint('watchlist:x'), '1099')
  t.same(
    (await b.due(1_000)).map((e) => e.key),
    ['k1'],
  )
  t.ok(statSync(path).size < 10_000)
})
