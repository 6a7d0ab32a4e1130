/**
 * The `feed` service: hears the feed job's newly added indicators (after their batch landed and before the feed's
 * state is committed, so a crash re-raises rather than loses them) and raises an alert for each rated at least a
 * rule's `minRating`. Pure: one event in, alerts out.
 */
import { Type, type Static } from 'typebox'
import { defineService, type FoundAlert } from '../api.js'

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

const FeedRule = Type.Object({
  minRating: Type.Integer({ minimum: 0, maximum: 5, description: 'The lowest Threat Rating that raises an alert.' }),
  feeds: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      minItems: 1,
      maxItems: 50,
      description: "Only these feeds' new indicators (default: every feed's).",
    }),
  ),
})

export const feedService = defineService<Static<typeof FeedRule>, undefined, FeedEvent>({
  rule: FeedRule,
  hears: 'feed',
  select(rule, event): FoundAlert[] {
    if (rule.feeds !== undefined && !rule.feeds.includes(event.feed)) return []
    return event.items
      .filter((item) => item.rating >= rule.minRating)
      .map((item) => ({
        indicator: { type: item.type, value: item.summary },
        rating: item.rating,
        confidence: item.confidence,
        reason: `new in feed ${event.feed}`,
        tags: item.tags,
        details: { feed: event.feed },
      }))
  },
})
