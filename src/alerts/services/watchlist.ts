/**
 * The `watchlist` service: polls ThreatConnect with the rule's TQL over the owner's indicators, oldest change first,
 * from a checkpoint (the last lastModified seen) less an overlap, so an indicator changed while the last poll ran is
 * not missed; what the overlap sees twice is dropped by the outbox's dedup key. The checkpoint moves only after the
 * poll's alerts are in the outbox.
 */
import type { PlatformClient, PlatformIndicator } from '../../platform/client.js'
import type { WatchlistRule } from '../rules.js'
import type { Alert } from '../types.js'

export const WATCHLIST_OVERLAP_MS = 5 * 60_000
/** A rule's first poll looks back this far (not over the owner's whole history: no storm on the first run). */
const WATCHLIST_FIRST_LOOKBACK_MS = 24 * 3_600_000
const PAGE = 500
const MAX_PAGES = 20

export interface WatchlistPoll {
  readonly alerts: Alert[]
  /** The new checkpoint (the latest lastModified seen), or undefined when nothing came. */
  readonly checkpoint: string | undefined
  /** More matched than one poll reads (MAX_PAGES x PAGE): the next poll goes on from the checkpoint. */
  readonly truncated: boolean
}

/** The rule's TQL, limited to changes after `since` (ISO 8601). The rule's own TQL is kept whole in parentheses. */
export const watchlistTql = (rule: WatchlistRule, since: string): string =>
  `(${rule.tql}) AND lastModified GT "${since}"`

export const watchlistSince = (checkpoint: string | undefined, now: number): string => {
  const at =
    checkpoint === undefined ? now - WATCHLIST_FIRST_LOOKBACK_MS : Date.parse(checkpoint) - WATCHLIST_OVERLAP_MS
  return new Date(Number.isNaN(at) ? now - WATCHLIST_FIRST_LOOKBACK_MS : at).toISOString()
}

const alertOf = (rule: WatchlistRule, i: PlatformIndicator, observedAt: string): Alert => ({
  ruleId: rule.id,
  service: 'watchlist',
  indicator: { type: i.type, value: i.summary },
  ...(i.rating !== null ? { rating: i.rating } : {}),
  ...(i.confidence !== null ? { confidence: i.confidence } : {}),
  reason: `matches the watchlist query of rule ${rule.id}`,
  tags: i.tags,
  observedAt,
  ...(i.webLink !== undefined ? { link: i.webLink } : {}),
})

export const pollWatchlist = async (
  rule: WatchlistRule,
  client: PlatformClient,
  options: { readonly owner: string | undefined; readonly checkpoint: string | undefined; readonly now: number },
): Promise<WatchlistPoll> => {
  const tql = watchlistTql(rule, watchlistSince(options.checkpoint, options.now))
  const observedAt = new Date(options.now).toISOString()
  const alerts: Alert[] = []
  let latest = options.checkpoint
  let more = true
  let page = 0
  for (; more && page < MAX_PAGES; page++) {
    const result = await client.queryIndicators(tql, {
      ...(options.owner !== undefined ? { owner: options.owner } : {}),
      start: page * PAGE,
      limit: PAGE,
    })
    for (const i of result.items) {
      alerts.push(alertOf(rule, i, observedAt))
      if (i.lastModified !== undefined && (latest === undefined || Date.parse(i.lastModified) > Date.parse(latest)))
        latest = i.lastModified
    }
    more = result.more
  }
  return { alerts, checkpoint: latest, truncated: more }
}
