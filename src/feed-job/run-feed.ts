/**
 * One feed, one run: fetch -> parse -> normalise and map (the feed's parser) -> diff -> upload (v2 Batch) -> commit
 * state. I/O at the edges (the fetcher, the batch client, the state store); the middle is the feed's pure parser and
 * the pure diff. Never throws: every failure ends as a summary saying why.
 */
import type { FeedRemoval } from '../config/feed-settings.js'
import type { FeedDefinition, FeedItem } from '../feeds/types.js'
import { BATCH_MAX_INDICATORS, type BatchAction, type BatchIndicator, type BatchOutcome } from '../platform/batch.js'
import { FeedDiffBuilder, itemHash, type FeedDiff } from './diff.js'
import { FEED_STATE_VERSION, indicatorKey, type FeedState, type FeedStateStore, type SentIndicator } from './state.js'

export type FeedStatus = 'ok' | 'partial' | 'failed'

/** The summary line's fields (a contract: scripts read them), plus the status and what the run has to say. */
export interface FeedRunSummary {
  readonly feed: string
  readonly fetched: number
  readonly invalid: number
  readonly added: number
  readonly updated: number
  readonly unchanged: number
  readonly removed: number
  readonly failed: number
  readonly batches: readonly {
    readonly id: number
    readonly action: BatchAction
    readonly indicators: number
    readonly succeeded: number
    readonly errors: number
  }[]
  readonly status: FeedStatus
  readonly dryRun: boolean
  readonly notes: readonly string[]
}

/**
 * What the last download said of its version: sent back (If-None-Match, If-Modified-Since) so an unchanged feed is a
 * 304.
 */
export interface DownloadVersion {
  readonly etag?: string | undefined
  readonly lastModified?: string | undefined
}

export type Download =
  { readonly notModified: true } | ({ readonly notModified: false; readonly text: string } & DownloadVersion)

export interface FeedRunDeps {
  readonly fetch: (feed: FeedDefinition, since: DownloadVersion | undefined) => Promise<Download>
  /** Undefined when no ThreatConnect API is configured (a dry run needs none). */
  readonly submit: ((action: BatchAction, indicators: readonly BatchIndicator[]) => Promise<BatchOutcome>) | undefined
  readonly state: FeedStateStore
  readonly owner: string
  readonly now: () => number
  readonly log: (line: string) => void
  /**
   * Hears the indicators a run newly added, once their batches landed and before the state moves on (the alert
   * service's `feed` rules): if it fails, the state is not advanced and the next run tells it again.
   */
  readonly onAdded?: (feed: string, items: readonly FeedItem[]) => Promise<void>
}

export interface FeedRunOptions {
  readonly dryRun: boolean
  readonly removal: FeedRemoval
  readonly maxRemovalPercent: number
  readonly refreshDays: number
  /** Fetch even inside the feed's minimum interval (tests, a manual re-run). */
  readonly ignoreMinInterval?: boolean
}

const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const toBatchIndicator = (item: FeedItem): BatchIndicator => ({
  summary: item.summary,
  type: item.type,
  rating: item.rating,
  confidence: item.confidence,
  active: true,
  tag: item.tags.map((name) => ({ name })),
  attribute: item.attributes,
  ...(item.firstSeen ? { firstSeen: item.firstSeen } : {}),
  ...(item.lastSeen ? { lastSeen: item.lastSeen } : {}),
})

const empty = (
  feed: string,
  status: FeedStatus,
  dryRun: boolean,
  notes: string[],
  extra: Partial<FeedRunSummary> = {},
): FeedRunSummary => ({
  feed,
  fetched: 0,
  invalid: 0,
  added: 0,
  updated: 0,
  unchanged: 0,
  removed: 0,
  failed: 0,
  batches: [],
  status,
  dryRun,
  notes,
  ...extra,
})

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** The state after a run whose every batch completed: what is in the feed now, and what could not be removed yet. */
const nextState = (
  feed: string,
  owner: string,
  diff: FeedDiff,
  keepGone: boolean,
  now: number,
  version: DownloadVersion,
): FeedState => {
  const indicators: Record<string, SentIndicator> = {}
  const sentNow = [...diff.add, ...diff.update, ...diff.refresh]
  for (const item of sentNow)
    indicators[indicatorKey(item.type, item.summary)] = {
      type: item.type,
      summary: item.summary,
      hash: itemHash(item),
      sentAt: now,
    }
  for (const s of diff.unchanged) indicators[indicatorKey(s.type, s.summary)] = s
  if (keepGone) for (const g of diff.gone) indicators[indicatorKey(g.type, g.summary)] = g
  return {
    version: FEED_STATE_VERSION,
    feed,
    owner,
    fetchedAt: now,
    etag: version.etag,
    lastModified: version.lastModified,
    indicators,
  }
}

export const runFeed = async (
  feed: FeedDefinition,
  deps: FeedRunDeps,
  options: FeedRunOptions,
): Promise<FeedRunSummary> => {
  const notes: string[] = []
  let previous: FeedState | undefined
  try {
    previous = await deps.state.load(feed.id)
  } catch (err) {
    return empty(feed.id, 'failed', options.dryRun, [
      `cannot read the feed's state in ${deps.state.where}: ${describe(err)}`,
    ])
  }
  // A state kept for another owner says nothing about this one: start afresh (nothing is removed from the old one).
  if (previous !== undefined && previous.owner !== deps.owner) {
    notes.push(`the state was for owner '${previous.owner}'; starting afresh for '${deps.owner}'`)
    previous = undefined
  }
  const now = deps.now()
  if (!options.ignoreMinInterval && previous !== undefined && now - previous.fetchedAt < feed.minIntervalMs) {
    const unchanged = Object.keys(previous.indicators).length
    return empty(
      feed.id,
      'ok',
      options.dryRun,
      [
        `not fetched: last fetched ${Math.round((now - previous.fetchedAt) / 1000)} s ago, and ${feed.title} asks for at most one fetch every ${Math.round(feed.minIntervalMs / 60_000)} min`,
      ],
      { unchanged },
    )
  }

  let download: Download
  try {
    download = await deps.fetch(
      feed,
      previous === undefined ? undefined : { etag: previous.etag, lastModified: previous.lastModified },
    )
  } catch (err) {
    return empty(feed.id, 'failed', options.dryRun, [...notes, `download failed: ${describe(err)}`])
  }
  if (download.notModified) {
    const unchanged = Object.keys(previous?.indicators ?? {}).length
    if (!options.dryRun && previous !== undefined)
      await deps.state.save({ ...previous, fetchedAt: now }).catch(() => undefined)
    return empty(
      feed.id,
      'ok',
      options.dryRun,
      [...notes, 'not modified since the last download (ETag / Last-Modified)'],
      { unchanged },
    )
  }

  // Diffed as it is read: items that need not be sent are not kept.
  const builder = new FeedDiffBuilder(previous, {
    now,
    refreshMs: options.refreshDays * 86_400_000,
    maxRemovalPercent: options.maxRemovalPercent,
  })
  const parsed = feed.parse(download.text, builder.add)
  for (const row of parsed.invalid.slice(0, 20)) deps.log(`${feed.id}: line ${row.line}: ${row.reason}`)
  if (parsed.invalid.length > 20) deps.log(`${feed.id}: ... and ${parsed.invalid.length - 20} more invalid rows`)
  const diff = builder.finish(parsed)
  if (diff.duplicates > 0)
    notes.push(`${diff.duplicates} rows repeat an indicator already in the feed (the last one counts)`)
  if (parsed.incomplete !== undefined) notes.push(`incomplete download: ${parsed.incomplete}`)
  const removing = diff.removalBlocked === undefined && options.removal !== 'keep' ? diff.gone : []
  if (diff.removalBlocked !== undefined) notes.push(`nothing removed: ${diff.removalBlocked}`)
  const counts = {
    fetched: parsed.count,
    invalid: parsed.invalid.length,
    added: diff.add.length,
    updated: diff.update.length + diff.refresh.length,
    unchanged: diff.unchanged.length,
    removed: removing.length,
  }
  // An incomplete download, or removals held back, is a partial run: exit 3, the reason in the notes.
  const held = diff.removalBlocked !== undefined || parsed.incomplete !== undefined

  if (options.dryRun) {
    const verb =
      options.removal === 'deactivate'
        ? 'deactivate'
        : options.removal === 'keep'
          ? 'keep (FEED_REMOVAL=keep)'
          : 'delete'
    deps.log(
      `${feed.id} (dry run): would add ${diff.add.length}, update ${diff.update.length}, refresh ${diff.refresh.length}, leave ${diff.unchanged.length}, ${verb} ${options.removal === 'keep' ? diff.gone.length : removing.length}; nothing written`,
    )
    return { feed: feed.id, ...counts, failed: 0, batches: [], status: held ? 'partial' : 'ok', dryRun: true, notes }
  }
  if (deps.submit === undefined) {
    return empty(
      feed.id,
      'failed',
      false,
      [
        ...notes,
        'no ThreatConnect API is configured (TC_API_PATH with TC_API_ACCESS_ID/TC_API_SECRET_KEY or TC_TOKEN, and TC_OWNER)',
      ],
      {
        fetched: counts.fetched,
        invalid: counts.invalid,
      },
    )
  }

  const outcomes: BatchOutcome[] = []
  let uploadError: string | undefined
  try {
    // Mapped one job at a time: the batch form of 100,000 indicators need not all be in memory at once.
    const sending = [...diff.add, ...diff.update, ...diff.refresh]
    for (const part of chunks(sending, BATCH_MAX_INDICATORS))
      outcomes.push(await deps.submit('Create', part.map(toBatchIndicator)))
    if (removing.length > 0) {
      const gone = removing.map((g) => ({ summary: g.summary, type: g.type }))
      for (const part of chunks(gone, BATCH_MAX_INDICATORS)) {
        outcomes.push(
          options.removal === 'deactivate'
            ? await deps.submit(
                'Create',
                part.map((g) => ({ ...g, active: false })),
              )
            : await deps.submit('Delete', part),
        )
      }
    }
  } catch (err) {
    uploadError = describe(err)
  }
  const batches = outcomes.map((o) => ({
    id: o.batchId,
    action: o.action,
    indicators: o.indicators,
    succeeded: o.status.successCount,
    errors: o.status.errorCount + o.status.unprocessCount,
  }))
  const failed = batches.reduce((n, b) => n + b.errors, 0)
  for (const o of outcomes)
    for (const e of o.errors.slice(0, 10))
      deps.log(`${feed.id}: batch ${o.batchId}: ${e.errorReason} (${e.errorSource})`)
  if (uploadError !== undefined || failed > 0) {
    // The state is not advanced: the next run sends all of this again (ThreatConnect upserts, so nothing doubles).
    const why = uploadError ?? `${failed} indicator${failed === 1 ? '' : 's'} refused by ThreatConnect`
    const anySucceeded = batches.some((b) => b.succeeded > 0)
    return {
      feed: feed.id,
      ...counts,
      removed: 0,
      failed: failed || counts.added + counts.updated,
      batches,
      status: anySucceeded ? 'partial' : 'failed',
      dryRun: false,
      notes: [...notes, `upload incomplete: ${why}; state not advanced, the next run sends it again`],
    }
  }
  if (deps.onAdded !== undefined && diff.add.length > 0) {
    try {
      await deps.onAdded(feed.id, diff.add)
    } catch (err) {
      return {
        feed: feed.id,
        ...counts,
        failed: 0,
        batches,
        status: 'partial',
        dryRun: false,
        notes: [
          ...notes,
          `uploaded, but its new indicators could not be handed to the alert service: ${describe(err)}; state not advanced, the next run tells it again`,
        ],
      }
    }
  }
  try {
    await deps.state.save(nextState(feed.id, deps.owner, diff, diff.removalBlocked !== undefined, now, download))
  } catch (err) {
    return {
      feed: feed.id,
      ...counts,
      failed: 0,
      batches,
      status: 'partial',
      dryRun: false,
      notes: [
        ...notes,
        `uploaded, but the state could not be saved in ${deps.state.where}: ${describe(err)}; the next run sends it again`,
      ],
    }
  }
  return { feed: feed.id, ...counts, failed: 0, batches, status: held ? 'partial' : 'ok', dryRun: false, notes }
}
