/** The diff, pure: new, changed, due for a refresh, unchanged, gone; repeats; when removals are held back. */
import t from 'tap'
import { FeedDiffBuilder, itemHash } from '../../src/feed-job/diff.js'
import { FEED_STATE_VERSION, indicatorKey, type FeedState } from '../../src/feed-job/state.js'
import type { FeedItem } from '../../src/feeds/types.js'

const DAY = 86_400_000
const item = (summary: string, rating = 3): FeedItem => ({
  type: 'Address',
  summary,
  rating,
  confidence: 80,
  tags: ['x'],
  attributes: [],
})
const stateOf = (items: readonly FeedItem[], sentAt: number): FeedState => ({
  version: FEED_STATE_VERSION,
  feed: 'f',
  owner: 'o',
  fetchedAt: sentAt,
  etag: undefined,
  indicators: Object.fromEntries(
    items.map((i) => [
      indicatorKey(i.type, i.summary),
      { type: i.type, summary: i.summary, hash: itemHash(i), sentAt },
    ]),
  ),
})
const clean = { invalid: [], incomplete: undefined }

t.test('each item classified on arrival; a repeat counts once, the last row winning', async (t) => {
  const before = stateOf([item('192.0.2.1'), item('192.0.2.2'), item('192.0.2.3'), item('192.0.2.9')], 0)
  const builder = new FeedDiffBuilder(before, { now: 10 * DAY, refreshMs: 30 * DAY, maxRemovalPercent: 50 })
  for (const i of [item('192.0.2.1'), item('192.0.2.2', 5), item('192.0.2.4'), item('192.0.2.3'), item('192.0.2.3', 1)])
    builder.add(i)
  const diff = builder.finish(clean)
  t.same(
    diff.add.map((i) => i.summary),
    ['192.0.2.4'],
  )
  t.same(
    diff.update.map((i) => [i.summary, i.rating]),
    [
      ['192.0.2.2', 5],
      ['192.0.2.3', 1],
    ],
    'a changed rating is an update; the repeat of .3 replaced it',
  )
  t.same(
    diff.unchanged.map((s) => s.summary),
    ['192.0.2.1'],
  )
  t.same(
    diff.gone.map((s) => s.summary),
    ['192.0.2.9'],
  )
  t.equal(diff.duplicates, 1)
  t.equal(diff.removalBlocked, undefined, '1 of 4 (25%) is within 50%')
})

t.test('unchanged but sent longer ago than the refresh interval: re-sent', async (t) => {
  const builder = new FeedDiffBuilder(stateOf([item('192.0.2.1')], 0), {
    now: 31 * DAY,
    refreshMs: 30 * DAY,
    maxRemovalPercent: 20,
  })
  builder.add(item('192.0.2.1'))
  t.same(
    builder.finish(clean).refresh.map((i) => i.summary),
    ['192.0.2.1'],
  )
})

t.test('removals held back: an incomplete download, unreadable rows, or too large a share', async (t) => {
  const before = stateOf(
    [item('192.0.2.1'), item('192.0.2.2'), item('192.0.2.3'), item('192.0.2.4'), item('192.0.2.5')],
    0,
  )
  const build = (keep: number) => {
    const b = new FeedDiffBuilder(before, { now: 1, refreshMs: DAY, maxRemovalPercent: 20 })
    for (let n = 1; n <= keep; n++) b.add(item(`192.0.2.${n}`))
    return b
  }
  t.equal(build(4).finish(clean).removalBlocked, undefined, '1 of 5 is exactly 20%: allowed')
  t.match(
    build(3).finish(clean).removalBlocked,
    /2 of 5 indicators \(40\.0%\) would go, over FEED_MAX_REMOVAL_PERCENT \(20%\)/,
  )
  t.match(build(4).finish({ invalid: [], incomplete: 'cut' }).removalBlocked, /not whole \(cut\)/)
  t.match(
    build(4).finish({ invalid: [{ line: 3, reason: 'x' }], incomplete: undefined }).removalBlocked,
    /1 row could not be read/,
  )
  t.equal(
    build(5).finish({ invalid: [], incomplete: 'cut' }).removalBlocked,
    undefined,
    'nothing gone: nothing to hold back',
  )
})
