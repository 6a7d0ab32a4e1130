/**
 * A threat-intelligence feed the feed job ingests: where it comes from, how often it may be fetched, its licence, and
 * a pure parser that turns the downloaded text into indicators mapped onto ThreatConnect's rating and confidence.
 * One feed, one file (src/feeds/<id>.ts), listed in src/feeds/registry.ts.
 */
import type { IndicatorType } from '../indicators/types.js'

/** An attribute as the v2 Batch API takes it. */
interface FeedAttribute {
  readonly type: string
  readonly value: string
}

/** One indicator as the feed says it, normalised, mapped, ready for the batch. */
export interface FeedItem {
  readonly type: IndicatorType
  /** The normalised value (the same normalisation as /run), the batch's `summary`. */
  readonly summary: string
  /** Threat Rating 0-5: Unknown, Suspicious, Low, Moderate, High, Critical. */
  readonly rating: number
  /**
   * Confidence 0-100: Confirmed 90-100, Probable 70-89, Possible 50-69, Doubtful 30-49, Improbable 2-29, Discredited 1.
   */
  readonly confidence: number
  readonly tags: readonly string[]
  readonly attributes: readonly FeedAttribute[]
  /** ISO 8601, when the feed says. */
  readonly firstSeen?: string
  readonly lastSeen?: string
}

export type ItemSink = (item: FeedItem) => void

/** A row that could not be used: where it is and why. Counted and reported; the run goes on. */
export interface InvalidRow {
  readonly line: number
  readonly reason: string
}

export interface ParsedFeed {
  /** The items, unless the parser handed each one to a sink instead (then empty). */
  readonly items: readonly FeedItem[]
  /** How many items the feed held (handed to the sink or listed). */
  readonly count: number
  readonly invalid: readonly InvalidRow[]
  /**
   * Why the download cannot be trusted to be whole (a missing trailer, a record count that does not match, JSON that
   * ends early), or undefined. An incomplete download may add and update, never remove.
   */
  readonly incomplete: string | undefined
}

export interface FeedDefinition {
  readonly id: string
  readonly title: string
  readonly description: string
  /** Where it is fetched from unless FEED_<ID>_URL says otherwise; undefined for the local file feed. */
  readonly defaultUrl: string | undefined
  /** The provider's asked-for minimum time between two fetches. */
  readonly minIntervalMs: number
  /** Its licence or terms, and the attribution it asks for. */
  readonly licence: string
  /** The key the provider wants (abuse.ch's Auth-Key): the setting it comes from and the header it goes in. */
  readonly auth?: { readonly env: string; readonly header: string }
  /**
   * Pure: the downloaded text -> items, invalid rows, and whether it looks whole. With `sink`, each item is handed
   * to it as it is read and none is kept, so a large feed need not be held whole (the feed job diffs as it goes).
   */
  parse(text: string, sink?: ItemSink): ParsedFeed
}
