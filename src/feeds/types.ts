/**
 * A threat-intelligence feed the feed job ingests: where it comes from, how often it may be fetched, its licence, and
 * a pure parser that turns the downloaded text, as it streams in, into indicators mapped onto ThreatConnect's rating
 * and confidence. One feed, one file (src/feeds/<id>.ts), listed in src/feeds/registry.ts.
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
  /** ISO 8601; only moves forward, so it is not part of what counts as a change (it goes out with the refresh). */
  readonly lastSeen?: string
}

export type ItemSink = (item: FeedItem) => void

/** A row that could not be used: where it is and why. Counted and reported; the run goes on. */
export interface InvalidRow {
  readonly line: number
  readonly reason: string
}

/** What a parser says of a download once it has read it. */
export interface ParseReport {
  /** Items handed to the sink. */
  readonly count: number
  /** Rows whose value could not be used (a bad URL, a wildcard): how many, and the first few with their line. */
  readonly invalid: number
  readonly invalidRows: readonly InvalidRow[]
  /**
   * Why the download as a whole cannot be trusted (CSV quoting broken, JSON that does not parse, a record count that
   * does not match, a body that ends mid-row), or undefined. A broken download may add and update, never remove.
   */
  readonly broken: string | undefined
}

interface ParseContext {
  /** When the run started (ms since the epoch): ages (a C2 offline for how long) are counted from it. */
  readonly now: number
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
   * Pure apart from reading its input: the downloaded text as it streams in -> each item to the sink, and a report.
   * Nothing is kept: the feed job stages and diffs as it goes.
   */
  parse(text: AsyncIterable<string>, sink: ItemSink, context: ParseContext): Promise<ParseReport>
}
