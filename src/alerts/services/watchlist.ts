/**
 * The `watchlist` service: polls ThreatConnect with a rule's TQL over the owner's indicators, oldest change first,
 * from a checkpoint (the last lastModified seen) less an overlap, so an indicator changed while the last poll ran is
 * not missed; what the overlap sees twice is dropped by the outbox's dedup key. The checkpoint moves only after the
 * poll's alerts are in the outbox.
 *
 * The TQL is the rule's own `tql`, or a query it names with `savedQuery` from ALERTS_CONFIG's `"savedQueries"` (a
 * query saved once and named, as ThreatConnect saves TQL on its Browse screen; ThreatConnect's REST API documents no
 * endpoint that reads those, so the text is copied into the config).
 */
import { Type, type Static } from 'typebox'
import type { PlatformIndicator } from '../../platform/client.js'
import { defineService, type FoundAlert, type RuleBase, type ThreatConnectAccess } from '../api.js'

export const WATCHLIST_OVERLAP_MS = 5 * 60_000
/** A rule's first poll looks back this far (not over the owner's whole history: no storm on the first run). */
const WATCHLIST_FIRST_LOOKBACK_MS = 24 * 3_600_000
const PAGE = 500
const MAX_PAGES = 20

const WatchlistRule = Type.Object({
  tql: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'The TQL to watch.' })),
  savedQuery: Type.Optional(
    Type.String({ minLength: 1, maxLength: 100, description: 'Or the name of a query in "savedQueries".' }),
  ),
})
type WatchlistRule = Static<typeof WatchlistRule> & RuleBase

/** The rule's TQL (its own, or the saved query it names), or undefined. */
const tqlOf = (rule: WatchlistRule, saved: Readonly<Record<string, string>>): string | undefined =>
  rule.tql ?? (rule.savedQuery !== undefined ? saved[rule.savedQuery] : undefined)

/** The rule's TQL, limited to changes after `since` (ISO 8601). The rule's own TQL is kept whole in parentheses. */
export const watchlistTql = (tql: string, since: string): string => `(${tql}) AND lastModified GT "${since}"`

export const watchlistSince = (checkpoint: string | undefined, now: number): string => {
  const at =
    checkpoint === undefined ? now - WATCHLIST_FIRST_LOOKBACK_MS : Date.parse(checkpoint) - WATCHLIST_OVERLAP_MS
  return new Date(Number.isNaN(at) ? now - WATCHLIST_FIRST_LOOKBACK_MS : at).toISOString()
}

const alertOf = (rule: WatchlistRule, i: PlatformIndicator): FoundAlert => ({
  indicator: { type: i.type, value: i.summary },
  ...(i.rating !== null ? { rating: i.rating } : {}),
  ...(i.confidence !== null ? { confidence: i.confidence } : {}),
  reason: `matches the watchlist query of rule ${rule.id}${rule.savedQuery !== undefined ? ` (${rule.savedQuery})` : ''}`,
  tags: i.tags,
  ...(i.webLink !== undefined ? { link: i.webLink } : {}),
})

interface Connection {
  readonly threatConnect: ThreatConnectAccess | undefined
  readonly savedQueries: Readonly<Record<string, string>>
}

export const watchlistService = defineService<Static<typeof WatchlistRule>, Connection>({
  rule: WatchlistRule,
  check(rule, context) {
    if ((rule.tql === undefined) === (rule.savedQuery === undefined)) return ['name one of tql and savedQuery']
    if (rule.savedQuery !== undefined && context.savedQueries[rule.savedQuery] === undefined) {
      const known = Object.keys(context.savedQueries)
      return [
        `savedQuery: '${rule.savedQuery}' is not in "savedQueries" (${known.length > 0 ? `known: ${known.join(', ')}` : 'there are none'})`,
      ]
    }
    return []
  },
  connect: (context) => ({ threatConnect: context.threatConnect, savedQueries: context.savedQueries }),
  async fetch({ rule, connection, checkpoint, now }) {
    const tc = connection.threatConnect
    if (tc === undefined)
      throw new Error(
        'no ThreatConnect API is configured (TC_API_PATH with TC_API_ACCESS_ID/TC_API_SECRET_KEY or TC_TOKEN)',
      )
    const ruleTql = tqlOf(rule, connection.savedQueries)
    if (ruleTql === undefined) throw new Error(`savedQuery '${rule.savedQuery ?? ''}' is not in "savedQueries"`)
    const tql = watchlistTql(ruleTql, watchlistSince(checkpoint, now))
    const alerts: FoundAlert[] = []
    let latest = checkpoint
    let more = true
    for (let page = 0; more && page < MAX_PAGES; page++) {
      const result = await tc.queryIndicators(tql, {
        ...(tc.owner !== undefined ? { owner: tc.owner } : {}),
        start: page * PAGE,
        limit: PAGE,
      })
      for (const i of result.items) {
        alerts.push(alertOf(rule, i))
        if (i.lastModified !== undefined && (latest === undefined || Date.parse(i.lastModified) > Date.parse(latest)))
          latest = i.lastModified
      }
      more = result.more
    }
    return { alerts, ...(latest !== undefined ? { checkpoint: latest } : {}), truncated: more }
  },
})
