/** The feed job's state on disk: written in parts, read back whole, and the same JSON a single stringify would give. */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  FEED_STATE_VERSION,
  fileStateStore,
  indicatorKey,
  stateJsonParts,
  type FeedState,
  type SentIndicator,
} from '../../src/feed-job/state.js'

const stateOf = (count: number, over: Partial<FeedState> = {}): FeedState => {
  const indicators: Record<string, SentIndicator> = {}
  for (let i = 0; i < count; i++) {
    // Odd characters in summaries and keys: quotes, backslashes, a line break, non-ASCII.
    const summary = i % 97 === 0 ? `evil"\\\n-${i}.exämple` : `10.${(i >> 8) & 255}.${i & 255}.0/24`
    indicators[indicatorKey('CIDR', summary)] = {
      type: 'CIDR',
      summary,
      hash: i.toString(16).padStart(32, '0'),
      sentAt: 1_796_000_000_000 + i,
    }
  }
  return {
    version: FEED_STATE_VERSION,
    feed: 'spamhaus_drop',
    owner: 'Org "A"',
    fetchedAt: 1_796_000_000_000,
    etag: undefined,
    lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT',
    indicators,
    ...over,
  }
}

t.test('the parts joined are exactly JSON.stringify(state), large or empty, with or without an ETag', async (t) => {
  for (const state of [stateOf(5_000), stateOf(0), stateOf(3, { etag: 'W/"e1"' })]) {
    const parts = [...stateJsonParts(state)]
    t.equal(parts.join(''), JSON.stringify(state))
    if (Object.keys(state.indicators).length === 5_000)
      t.ok(parts.length > 3, `written in ${parts.length} parts, not one string`)
  }
})

t.test('the file store writes the state in parts and reads it back whole, leaving no temporary file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'feed-state-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const store = fileStateStore(dir)
  const state = stateOf(5_000)
  await store.save(state)
  t.same(await store.load('spamhaus_drop'), JSON.parse(JSON.stringify(state)))
  t.equal(await readFile(join(dir, 'spamhaus_drop.json'), 'utf8'), JSON.stringify(state))
  t.same(await readdir(dir), ['spamhaus_drop.json'], 'the temporary file was renamed into place')
  t.equal(await store.load('feodo'), undefined, 'a feed never run has no state')
})
