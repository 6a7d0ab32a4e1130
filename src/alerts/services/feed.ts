/**
 * The `feed` service: hears the feed job's newly added indicators (after their batch landed and before the feed's
 * state is committed, so a crash re-raises rather than loses them) and raises an alert for each rated at least a
 * rule's `minRating`. Pure: items in, alerts out.
 */
import type { FeedRule } from '../rules.js'
import type { Alert } from '../types.js'

export interface FeedEvent {
  readonly feed: string
  readonly items: ReadonlyArray<{
    readonly type: string
    readonly summary: string
    readonly rating: number
    readonly confidence: number
    readonly tags: readonly string[]
  }>
}

export const feedAlerts = (rules: readonly FeedRule[], event: FeedEvent, observedAt: string): Alert[] =>
  rules
    .filter((rule) => rule.feeds === undefined || rule.feeds.includes(event.feed))
    .flatMap((rule) =>
      event.items
        .filter((item) => item.rating >= rule.minRating)
        .map((item) => ({
          ruleId: rule.id,
          service: 'feed' as const,
          indicator: { type: item.type, value: item.summary },
          rating: item.rating,
          confidence: item.confidence,
          reason: `new in feed ${event.feed}`,
          tags: item.tags,
          observedAt,
        })),
    )
