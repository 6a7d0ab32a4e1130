/**
 * The differential update, pure: what a feed's items mean against what was last sent. New -> add; changed (another
 * hash) -> update; the same but sent longer ago than the refresh interval -> refresh; the same -> unchanged; sent
 * before but gone from the feed -> remove, only when the download is whole and the share removed is within bounds.
 */
import { hash } from 'node:crypto'
import type { FeedItem, ParsedFeed } from '../feeds/types.js'
import { indicatorKey, type FeedState, type SentIndicator } from './state.js'

export interface FeedDiff {
  readonly add: readonly FeedItem[]
  readonly update: readonly FeedItem[]
  readonly refresh: readonly FeedItem[]
  /** Unchanged: their records as last sent (nothing of them needs sending). */
  readonly unchanged: readonly SentIndicator[]
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
  // One-shot: no Hash object per item (100,000 of them are native objects the collector has to finalise).
  hash(
    'sha256',
    JSON.stringify([
      item.rating,
      item.confidence,
      [...item.tags].sort(),
      item.attributes.map((a) => `${a.type}\u0000${a.value}`).sort(),
      item.firstSeen ?? null,
      item.lastSeen ?? null,
    ]),
    'hex',
  ).slice(0, 32)

/**
 * The diff built as the feed is read: each item classified when it arrives, and only the ones to send kept (an
 * unchanged indicator keeps nothing but its previous record), so an unchanged re-run of a large feed holds little.
 */
export class FeedDiffBuilder {
  readonly #sent: Readonly<Record<string, SentIndicator>>
  readonly #options: DiffOptions
  readonly #seen = new Map<string, 'add' | 'update' | 'refresh' | 'unchanged'>()
  readonly #add = new Map<string, FeedItem>()
  readonly #update = new Map<string, FeedItem>()
  readonly #refresh = new Map<string, FeedItem>()
  readonly #unchanged = new Map<string, SentIndicator>()
  #items = 0

  constructor(previous: FeedState | undefined, options: DiffOptions) {
    this.#sent = previous?.indicators ?? {}
    this.#options = options
  }

  /** One item as the feed holds it; a repeat of an indicator replaces its earlier row (the last one counts). */
  readonly add = (item: FeedItem): void => {
    this.#items += 1
    const key = indicatorKey(item.type, item.summary)
    const earlier = this.#seen.get(key)
    if (earlier !== undefined) this.#bucket(earlier).delete(key)
    const before = this.#sent[key]
    const kind =
      before === undefined
        ? 'add'
        : before.hash !== itemHash(item)
          ? 'update'
          : this.#options.now - before.sentAt >= this.#options.refreshMs
            ? 'refresh'
            : 'unchanged'
    this.#seen.set(key, kind)
    if (kind === 'unchanged' && before !== undefined) this.#unchanged.set(key, before)
    else if (kind !== 'unchanged') (this.#bucket(kind) as Map<string, FeedItem>).set(key, item)
  }

  #bucket(kind: 'add' | 'update' | 'refresh' | 'unchanged'): Map<string, unknown> {
    return kind === 'add'
      ? this.#add
      : kind === 'update'
        ? this.#update
        : kind === 'refresh'
          ? this.#refresh
          : this.#unchanged
  }

  /** The diff once the whole feed was read; `parsed` says whether the download was whole and clean. */
  finish(parsed: Pick<ParsedFeed, 'invalid' | 'incomplete'>): FeedDiff {
    const gone = Object.entries(this.#sent).flatMap(([key, s]) => (this.#seen.has(key) ? [] : [s]))
    const total = Object.keys(this.#sent).length
    const share = total === 0 ? 0 : (100 * gone.length) / total
    const { maxRemovalPercent } = this.#options
    const removalBlocked =
      gone.length === 0
        ? undefined
        : parsed.incomplete !== undefined
          ? `the download is not whole (${parsed.incomplete})`
          : parsed.invalid.length > 0
            ? `${parsed.invalid.length} row${parsed.invalid.length === 1 ? '' : 's'} could not be read`
            : share > maxRemovalPercent
              ? `${gone.length} of ${total} indicators (${share.toFixed(1)}%) would go, over FEED_MAX_REMOVAL_PERCENT (${maxRemovalPercent}%)`
              : undefined
    return {
      add: [...this.#add.values()],
      update: [...this.#update.values()],
      refresh: [...this.#refresh.values()],
      unchanged: [...this.#unchanged.values()],
      gone,
      removalBlocked,
      duplicates: this.#items - this.#seen.size,
    }
  }
}
