/**
 * The differential update's rules, pure: how two rows of one indicator merge, what counts as a change, and whether
 * the removals a run would make go through or are held back (and why).
 */
import { hash } from 'node:crypto'
import type { FeedItem } from '../feeds/types.js'
import type { SentRecord } from './state.js'

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Two rows of one indicator as one: every tag and attribute of both (one of each, in a stable order), the highest
 * rating and confidence, the earliest first seen and the latest last seen.
 */
export const mergeItems = (a: FeedItem, b: FeedItem): FeedItem => {
  // One of each tag whatever its case; of two spellings the same one wins in any order (the later in code points).
  const tags = new Map<string, string>()
  for (const t of [...a.tags, ...b.tags]) {
    const held = tags.get(t.toLowerCase())
    if (held === undefined || t > held) tags.set(t.toLowerCase(), t)
  }
  const attributes = new Map<string, FeedItem['attributes'][number]>()
  for (const at of [...a.attributes, ...b.attributes]) attributes.set(`${at.type}\u0000${at.value}`, at)
  const firstSeen = [a.firstSeen, b.firstSeen].filter((d): d is string => d !== undefined).sort(byText)[0]
  const lastSeen = [a.lastSeen, b.lastSeen]
    .filter((d): d is string => d !== undefined)
    .sort(byText)
    .pop()
  return {
    type: a.type,
    summary: a.summary,
    rating: Math.max(a.rating, b.rating),
    confidence: Math.max(a.confidence, b.confidence),
    tags: [...tags.values()].sort((x, y) => byText(x.toLowerCase(), y.toLowerCase())),
    attributes: [...attributes.entries()].sort(([x], [y]) => byText(x, y)).map(([, at]) => at),
    ...(firstSeen !== undefined ? { firstSeen } : {}),
    ...(lastSeen !== undefined ? { lastSeen } : {}),
  }
}

/**
 * What is sent, hashed: a change in any of it is an update. Last seen is left out: it only moves forward, and 2,320
 * of 2,335 ThreatFox "updates" a run changed nothing else; it goes out with the refresh.
 */
export const contentHash = (item: FeedItem): string =>
  hash(
    'sha256',
    JSON.stringify([
      item.rating,
      item.confidence,
      [...item.tags].sort(),
      item.attributes.map((a) => `${a.type}\u0000${a.value}`).sort(),
      item.firstSeen ?? null,
    ]),
    'hex',
  ).slice(0, 32)

export type Change = 'add' | 'update' | 'refresh' | 'unchanged'

/** An item against its record: new, changed, the same but due for its refresh, or the same. */
export const changeOf = (item: FeedItem, before: SentRecord | undefined, now: number, refreshMs: number): Change => {
  if (before === undefined) return 'add'
  if (before.hash !== contentHash(item)) return 'update'
  return now - before.sentAt >= refreshMs ? 'refresh' : 'unchanged'
}

export interface RemovalFacts {
  /** Why the download cannot be trusted whole, or undefined. */
  readonly broken: string | undefined
  readonly rows: number
  readonly invalid: number
  /** Indicators the state holds. */
  readonly known: number
  /** Of them, gone from this download. */
  readonly gone: number
}

export interface RemovalLimits {
  readonly maxInvalidPercent: number
  readonly maxRemovalPercent: number
}

/** Why this run's removals are held back, or undefined when they may go. */
export const removalHold = (facts: RemovalFacts, limits: RemovalLimits): string | undefined => {
  if (facts.gone === 0) return undefined
  if (facts.broken !== undefined) return `the download cannot be trusted whole (${facts.broken})`
  const invalidShare = facts.rows + facts.invalid === 0 ? 0 : (100 * facts.invalid) / (facts.rows + facts.invalid)
  if (invalidShare > limits.maxInvalidPercent) {
    return `${facts.invalid} rows (${invalidShare.toFixed(1)}%) could not be read, over FEED_MAX_INVALID_PERCENT (${limits.maxInvalidPercent}%)`
  }
  const goneShare = facts.known === 0 ? 0 : (100 * facts.gone) / facts.known
  if (goneShare > limits.maxRemovalPercent) {
    return `${facts.gone} of ${facts.known} indicators (${goneShare.toFixed(1)}%) would go, over FEED_MAX_REMOVAL_PERCENT (${limits.maxRemovalPercent}%)`
  }
  return undefined
}
