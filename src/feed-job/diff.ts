/**
 * The differential update, pure: what a feed's items mean against what was last sent. New -> add; changed (another
 * hash) -> update; the same but sent longer ago than the refresh interval -> refresh; the same -> unchanged; sent
 * before but gone from the feed -> remove, only when the download is whole and the share removed is within bounds.
 */
import { createHash } from 'node:crypto'
import type { FeedItem, ParsedFeed } from '../feeds/types.js'
import { indicatorKey, type FeedState, type SentIndicator } from './state.js'

export interface FeedDiff {
  readonly add: readonly FeedItem[]
  readonly update: readonly FeedItem[]
  readonly refresh: readonly FeedItem[]
  readonly unchanged: readonly FeedItem[]
  /** Left the feed (whether or not removal is allowed this run). */
  readonly gone: readonly SentIndicator[]
  /** Why nothing is removed this run, or undefined when `gone` may be removed. */
  readonly removalBlocked: string | undefined
  /** Items the feed held twice (the last one counts). */
  readonly duplicates: number
}

export interface DiffOptions {
  readonly now: number
  readonly refreshMs: number
  readonly maxRemovalPercent: number
}

/** What is sent, hashed: a change in any of it is an update. */
export const itemHash = (item: FeedItem): string =>
  createHash('sha256')
    .update(
      JSON.stringify([
        item.rating,
        item.confidence,
        [...item.tags].sort(),
        item.attributes.map((a) => `${a.type}\u0000${a.value}`).sort(),
        item.firstSeen ?? null,
        item.lastSeen ?? null,
      ]),
    )
    .digest('hex')
    .slice(0, 32)

export const diffFeed = (previous: FeedState | undefined, parsed: ParsedFeed, options: DiffOptions): FeedDiff => {
  const current = new Map<string, FeedItem>()
  for (const item of parsed.items) current.set(indicatorKey(item.type, item.summary), item)
  const sent = previous?.indicators ?? {}
  const add: FeedItem[] = []
  const update: FeedItem[] = []
  const refresh: FeedItem[] = []
  const unchanged: FeedItem[] = []
  for (const [key, item] of current) {
    const before = sent[key]
    if (before === undefined) add.push(item)
    else if (before.hash !== itemHash(item)) update.push(item)
    else if (options.now - before.sentAt >= options.refreshMs) refresh.push(item)
    else unchanged.push(item)
  }
  const gone = Object.entries(sent).flatMap(([key, s]) => (current.has(key) ? [] : [s]))
  const total = Object.keys(sent).length
  const share = total === 0 ? 0 : (100 * gone.length) / total
  const removalBlocked =
    gone.length === 0
      ? undefined
      : parsed.incomplete !== undefined
        ? `the download is not whole (${parsed.incomplete})`
        : parsed.invalid.length > 0
          ? `${parsed.invalid.length} row${parsed.invalid.length === 1 ? '' : 's'} could not be read`
          : share > options.maxRemovalPercent
            ? `${gone.length} of ${total} indicators (${share.toFixed(1)}%) would go, over FEED_MAX_REMOVAL_PERCENT (${options.maxRemovalPercent}%)`
            : undefined
  return { add, update, refresh, unchanged, gone, removalBlocked, duplicates: parsed.items.length - current.size }
}
