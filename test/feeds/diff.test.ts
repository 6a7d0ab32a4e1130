/** The differential update's rules, pure: merging repeats, what counts as a change, when removals are held back. */
import t from 'tap'
import { changeOf, contentHash, mergeItems, removalHold } from '../../src/feed-job/diff.js'
import type { FeedItem } from '../../src/feeds/types.js'
import type { SentRecord } from '../../src/feed-job/state.js'

const item = (extra: Partial<FeedItem> = {}): FeedItem => ({
  type: 'Address',
  summary: '144.172.68.200',
  rating: 4,
  confidence: 80,
  tags: ['Cobalt Strike', 'botnet_cc'],
  attributes: [{ type: 'Source', value: 'abuse.ch ThreatFox IOC 1 (botnet_cc on port 80)' }],
  firstSeen: '2026-10-03T16:05:06Z',
  ...extra,
})

t.test(
  'two rows of one indicator merge: every family and port kept, the highest confidence, in a stable order',
  async (t) => {
    const a = item()
    const b = item({
      rating: 3,
      confidence: 100,
      tags: ['VShell', 'BOTNET_CC'],
      attributes: [{ type: 'Source', value: 'abuse.ch ThreatFox IOC 2 (botnet_cc on port 8080)' }],
      firstSeen: '2026-10-01T00:00:00Z',
      lastSeen: '2026-10-04T00:00:00Z',
    })
    const merged = mergeItems(a, b)
    t.match(merged, { rating: 4, confidence: 100, firstSeen: '2026-10-01T00:00:00Z', lastSeen: '2026-10-04T00:00:00Z' })
    t.same(merged.tags, ['botnet_cc', 'Cobalt Strike', 'VShell'], 'one of each tag whatever its case')
    t.same(
      merged.attributes.map((x) => x.value),
      ['abuse.ch ThreatFox IOC 1 (botnet_cc on port 80)', 'abuse.ch ThreatFox IOC 2 (botnet_cc on port 8080)'],
    )
    t.same(contentHash(mergeItems(b, a)), contentHash(merged), 'the order the rows came in changes nothing')
  },
)

t.test(
  'last seen is not a change; anything else is; the same item is refreshed after the refresh interval',
  async (t) => {
    const before: SentRecord = {
      key: 'k',
      type: 'Address',
      summary: '144.172.68.200',
      hash: contentHash(item({ lastSeen: '2026-10-01T00:00:00Z' })),
      sentAt: 1_000,
      seenAt: 1_000,
    }
    t.equal(
      changeOf(item({ lastSeen: '2026-10-04T00:00:00Z' }), before, 2_000, 10_000),
      'unchanged',
      'only last seen moved',
    )
    t.equal(changeOf(item({ confidence: 90 }), before, 2_000, 10_000), 'update')
    t.equal(changeOf(item({ tags: ['Cobalt Strike'] }), before, 2_000, 10_000), 'update')
    t.equal(changeOf(item(), before, 11_000, 10_000), 'refresh')
    t.equal(changeOf(item(), undefined, 0, 10_000), 'add')
  },
)

t.test(
  'removals: a broken download, too many unusable rows or too large a share hold them back; a few bad rows do not',
  async (t) => {
    const limits = { maxInvalidPercent: 1, maxRemovalPercent: 20 }
    const whole = { broken: undefined, rows: 1_000, invalid: 0, known: 1_000, gone: 10 }
    t.equal(removalHold(whole, limits), undefined)
    t.equal(removalHold({ ...whole, invalid: 5 }, limits), undefined, '5 odd rows in 1,005 (0.5%) do not hold removals')
    t.match(
      removalHold({ ...whole, invalid: 30 }, limits),
      /30 rows \(2\.9%\) could not be read, over FEED_MAX_INVALID_PERCENT \(1%\)/,
    )
    t.match(
      removalHold({ ...whole, broken: 'the download ends mid-row' }, limits),
      /cannot be trusted whole \(the download ends mid-row\)/,
    )
    t.match(removalHold({ ...whole, gone: 400 }, limits), /400 of 1000 indicators \(40\.0%\) would go/)
    t.equal(removalHold({ ...whole, gone: 0, broken: 'cut' }, limits), undefined, 'nothing to remove, nothing held')
  },
)
