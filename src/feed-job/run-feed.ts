/**
 * One feed, one run: download (streamed) -> parse -> normalise and map (the feed's parser) -> stage (merging repeats)
 * -> diff against the state -> upload as the diff is built -> commit each batch's records once it landed -> the
 * run's validators and held removals last. I/O at the edges (the download, the batch client, the state, the staging
 * file); the rules in the middle are pure (./diff.ts). Never throws: every failure ends as a summary saying why.
 *
 * Removals: an indicator that left the feed is removed (FEED_REMOVAL) unless the download cannot be trusted whole,
 * too many rows could not be read (FEED_MAX_INVALID_PERCENT) or too many would go at once (FEED_MAX_REMOVAL_PERCENT).
 * Held removals stay pending in the state and are reported on every run (exit 3, with the reason) until they go; one
 * unseen for FEED_EXPIRE_DAYS goes whatever the guards say.
 */
import type { FeedRemoval } from '../config/feed-settings.js'
import type { FeedDefinition, FeedItem } from '../feeds/types.js'
import type { BatchAction, BatchIndicator, BatchOutcome } from '../platform/batch.js'
import { platformSummary } from '../platform/client.js'
import { changeOf, contentHash, removalHold, type Change } from './diff.js'
import type { Download, Validators } from './download.js'
import type { Progress } from './progress.js'
import { openStaging, type Staging } from './staging.js'
import type { FeedMeta, FeedStateStore, SentRecord } from './state.js'
import { Uploader, type Submit } from './uploader.js'

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
  /** Removals held back (pending in the state until they go). */
  readonly held: number
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

export interface FeedRunDeps {
  readonly download: (feed: FeedDefinition, since: Validators | undefined) => Promise<Download>
  /** Undefined when no ThreatConnect API is configured (a dry run needs none). */
  readonly submit: Submit | undefined
  readonly state: FeedStateStore
  readonly owner: string
  readonly now: () => number
  readonly log: (line: string) => void
  /** Rows read and batches uploaded, as they happen. */
  readonly progress?: (feed: string) => Progress
  /**
   * Hears the indicators a run newly added, once their batch landed and before their records are committed (the
   * alert service's `feed` rules): if it fails, they are not committed and the next run tells it again.
   */
  readonly onAdded?: (feed: string, items: readonly FeedItem[]) => Promise<void>
}

export interface FeedRunOptions {
  readonly dryRun: boolean
  readonly removal: FeedRemoval
  readonly maxRemovalPercent: number
  readonly maxInvalidPercent: number
  readonly refreshDays: number
  readonly expireDays: number
  readonly batchMaxItems: number
  readonly batchMaxBytes: number
  /** Fetch even inside the feed's minimum interval (tests, a manual re-run). */
  readonly ignoreMinInterval?: boolean
}

const DAY_MS = 86_400_000
const PAGE = 500

/** An item as the batch carries it (an ASN in the platform's spelling, times without milliseconds). */
const toBatchIndicator = (item: FeedItem): BatchIndicator => ({
  summary: platformSummary(item.type, item.summary),
  type: item.type,
  rating: item.rating,
  confidence: item.confidence,
  active: true,
  tag: item.tags.map((name) => ({ name })),
  attribute: item.attributes,
  ...(item.firstSeen ? { firstSeen: item.firstSeen } : {}),
  ...(item.lastSeen ? { lastSeen: item.lastSeen } : {}),
})

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err))

interface Counts {
  fetched: number
  invalid: number
  added: number
  updated: number
  unchanged: number
  removed: number
  held: number
}

const zero = (): Counts => ({ fetched: 0, invalid: 0, added: 0, updated: 0, unchanged: 0, removed: 0, held: 0 })

type Meta = {
  readonly key: string
  readonly change: Change | 'remove'
  readonly item?: FeedItem
  readonly record?: SentRecord
}

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

/**
 * The records the staging does not hold. Both sides in key order (SQLite's: the UTF-8 bytes): a merge; a state that
 * is not ordered (Redis) asks the staging key by key.
 */
const goneFrom = async (state: FeedStateStore, feed: string, stage: Staging): Promise<SentRecord[]> => {
  const gone: SentRecord[] = []
  if (!state.ordered) {
    for await (const records of state.records(feed)) for (const r of records) if (!stage.has(r.key)) gone.push(r)
    return gone
  }
  let staged: string[] = []
  let at = 0
  let after = ''
  let exhausted = false
  for await (const records of state.records(feed)) {
    for (const r of records) {
      for (;;) {
        if (at >= staged.length && !exhausted) {
          staged = stage.keys(after, PAGE)
          at = 0
          if (staged.length === 0) exhausted = true
          else after = staged[staged.length - 1] as string
        }
        if (exhausted || utf8Order(staged[at] as string, r.key) >= 0) break
        at += 1
      }
      if (exhausted || staged[at] !== r.key) gone.push(r)
    }
  }
  return gone
}

export const runFeed = async (
  feed: FeedDefinition,
  deps: FeedRunDeps,
  options: FeedRunOptions,
): Promise<FeedRunSummary> => {
  const notes: string[] = []
  const counts = zero()
  const summary = (status: FeedStatus, extra: Partial<FeedRunSummary> = {}): FeedRunSummary => ({
    feed: feed.id,
    ...counts,
    failed: 0,
    batches: [],
    status,
    dryRun: options.dryRun,
    notes,
    ...extra,
  })
  let meta: FeedMeta | undefined
  try {
    meta = await deps.state.meta(feed.id)
    // A state kept for another owner says nothing about this one: start afresh (nothing is removed from the old one).
    if (meta !== undefined && meta.owner !== deps.owner) {
      notes.push(`the state was for owner '${meta.owner}'; starting afresh for '${deps.owner}'`)
      if (!options.dryRun) await deps.state.reset(feed.id)
      meta = undefined
    }
  } catch (err) {
    notes.push(`cannot read the feed's state in ${deps.state.where}: ${describe(err)}`)
    return summary('failed')
  }
  const now = deps.now()
  const today = Math.floor(now / DAY_MS) * DAY_MS
  // Held removals are news on every run until they go, whether or not this run downloads anything.
  const stillHeld = (status: FeedStatus): FeedStatus => {
    if (meta?.held === undefined) return status
    counts.held = meta.held.count
    notes.push(`${meta.held.count} removals still held back: ${meta.held.reason}`)
    return status === 'ok' ? 'partial' : status
  }
  if (!options.ignoreMinInterval && meta !== undefined && now - meta.fetchedAt < feed.minIntervalMs) {
    notes.push(
      `not fetched: last fetched ${Math.round((now - meta.fetchedAt) / 1000)} s ago, and ${feed.title} asks for at most one fetch every ${Math.round(feed.minIntervalMs / 60_000)} min`,
    )
    return summary(stillHeld('ok'))
  }

  let download: Download
  try {
    download = await deps.download(
      feed,
      meta === undefined ? undefined : { etag: meta.etag, lastModified: meta.lastModified },
    )
  } catch (err) {
    notes.push(`download failed: ${describe(err)}`)
    return summary('failed')
  }
  if (download.notModified) {
    notes.push('not modified since the last download that landed whole (ETag / Last-Modified)')
    if (!options.dryRun && meta !== undefined)
      await deps.state.saveMeta(feed.id, { ...meta, fetchedAt: now }).catch(() => undefined)
    return summary(stillHeld('ok'))
  }

  const progress = deps.progress?.(feed.id)
  let staging: Staging | undefined
  try {
    staging = openStaging()
    const stage = staging
    // Staged as it is read: a feed of any size is held on disk, not in memory.
    let report
    try {
      report = await feed.parse(
        download.text,
        (item) => {
          stage.put(item)
          if (progress !== undefined) {
            progress.figures.rows += 1
            progress.figures.bytes = download.received()
            progress.figures.expectedBytes = download.expected
            progress.tick()
          }
        },
        { now },
      )
    } catch (err) {
      // The download broke off (or was not the feed): nothing of it is trusted, the state stays as it was.
      notes.push(`download failed while reading: ${describe(err)}`)
      return summary('failed')
    }
    stage.flush()
    counts.fetched = report.count
    counts.invalid = report.invalid
    for (const row of report.invalidRows) deps.log(`${feed.id}: line ${row.line}: ${row.reason}`)
    if (report.invalid > report.invalidRows.length)
      deps.log(`${feed.id}: ... and ${report.invalid - report.invalidRows.length} more invalid rows`)
    if (report.invalid > 0) notes.push(`${report.invalid} rows could not be used (their lines are logged)`)
    if (stage.merged > 0)
      notes.push(
        `${stage.merged} rows repeat an indicator of another row: merged into it (every tag and attribute kept)`,
      )
    if (report.broken !== undefined) notes.push(`the download cannot be trusted whole: ${report.broken}`)

    const refreshMs = options.refreshDays * DAY_MS
    const dry = options.dryRun || deps.submit === undefined
    if (!options.dryRun && deps.submit === undefined) {
      notes.push(
        'no ThreatConnect API is configured (TC_API_PATH with TC_API_ACCESS_ID/TC_API_SECRET_KEY or TC_TOKEN, and TC_OWNER)',
      )
      return summary('failed')
    }
    const uploader = new Uploader<Meta>({
      submit: deps.submit ?? (() => Promise.reject(new Error('no ThreatConnect API'))),
      maxItems: options.batchMaxItems,
      maxBytes: options.batchMaxBytes,
      landed: async (kind, entries) => {
        if (progress !== undefined) {
          progress.figures.batches += 1
          progress.tick()
        }
        if (kind === 'send') {
          const added = entries.flatMap((e) =>
            e.meta.change === 'add' && e.meta.item !== undefined ? [e.meta.item] : [],
          )
          if (added.length > 0 && deps.onAdded !== undefined) {
            await deps.onAdded(feed.id, added).catch((err: unknown) => {
              throw new Error(`its new indicators could not be handed to the alert service: ${describe(err)}`, {
                cause: err,
              })
            })
          }
          const records = entries.flatMap((e) =>
            e.meta.item === undefined
              ? []
              : [
                  {
                    key: e.meta.key,
                    type: e.meta.item.type,
                    summary: e.meta.item.summary,
                    hash: contentHash(e.meta.item),
                    sentAt: now,
                    seenAt: today,
                  },
                ],
          )
          await deps.state.record(feed.id, records)
        } else
          await deps.state.forget(
            feed.id,
            entries.map((e) => e.meta.key),
          )
      },
    })

    // Every staged item against its record, a page at a time; what must go out is uploaded as batches fill.
    let matched = 0
    for (let after = ''; ;) {
      const page = stage.page(after, PAGE)
      if (page.length === 0) break
      after = page[page.length - 1]?.key as string
      const known = await deps.state.lookup(
        feed.id,
        page.map((p) => p.key),
      )
      matched += known.size
      const seen: string[] = []
      for (const { key, item } of page) {
        const before = known.get(key)
        const change = changeOf(item, before, now, refreshMs)
        if (change === 'unchanged') {
          counts.unchanged += 1
          // Seen today already: nothing to write.
          if ((before as SentRecord).seenAt < today) seen.push(key)
          continue
        }
        if (change === 'add') counts.added += 1
        else counts.updated += 1
        if (!dry) await uploader.add('send', { indicator: toBatchIndicator(item), meta: { key, change, item } })
      }
      if (!dry && seen.length > 0) await deps.state.touch(feed.id, seen, today)
    }

    // What the state holds that this download does not: gone from the feed (none when every record was matched).
    const known = await deps.state.size(feed.id)
    const gone = known === matched ? [] : await goneFrom(deps.state, feed.id, stage)
    const hold = removalHold(
      { broken: report.broken, rows: report.count, invalid: report.invalid, known, gone: gone.length },
      { maxInvalidPercent: options.maxInvalidPercent, maxRemovalPercent: options.maxRemovalPercent },
    )
    const expired = gone.filter((r) => now - r.seenAt >= options.expireDays * DAY_MS)
    const removing = hold === undefined ? gone : expired
    counts.held = gone.length - removing.length
    if (hold !== undefined && counts.held > 0) notes.push(`${counts.held} removals held back: ${hold}`)
    if (hold !== undefined && expired.length > 0)
      notes.push(
        `${expired.length} unseen for ${options.expireDays} days or more (FEED_EXPIRE_DAYS): removed all the same`,
      )
    if (options.removal === 'keep') {
      if (removing.length > 0) notes.push(`${removing.length} left the feed and are kept (FEED_REMOVAL=keep)`)
      if (!dry)
        await deps.state.forget(
          feed.id,
          removing.map((r) => r.key),
        )
    } else {
      counts.removed = removing.length
      for (const r of removing) {
        const indicator: BatchIndicator =
          options.removal === 'deactivate'
            ? { summary: platformSummary(r.type as FeedItem['type'], r.summary), type: r.type, active: false }
            : { summary: platformSummary(r.type as FeedItem['type'], r.summary), type: r.type }
        if (!dry)
          await uploader.add(options.removal === 'deactivate' ? 'deactivate' : 'delete', {
            indicator,
            meta: { key: r.key, change: 'remove', record: r },
          })
      }
    }

    if (dry) {
      const verb = options.removal === 'keep' ? 'keep' : options.removal
      deps.log(
        `${feed.id} (dry run): would add ${counts.added}, update ${counts.updated}, leave ${counts.unchanged}, ${verb} ${removing.length}, hold back ${counts.held}; nothing written`,
      )
      return summary(report.broken !== undefined || counts.held > 0 ? 'partial' : 'ok')
    }
    await uploader.finish()

    const batches = uploader.outcomes.map((o: BatchOutcome) => ({
      id: o.batchId,
      action: o.action,
      indicators: o.indicators,
      succeeded: o.status.successCount,
      errors: o.status.errorCount + o.status.unprocessCount,
    }))
    for (const o of uploader.outcomes)
      for (const e of o.errors.slice(0, 10))
        deps.log(`${feed.id}: batch ${o.batchId}: ${e.errorReason} (${e.errorSource})`)
    const failed = uploader.failures.reduce((n, f) => n + f.entries, 0)
    for (const f of uploader.failures)
      notes.push(`a ${f.kind} batch of ${f.entries} did not land: ${f.why}; the next run sends it again`)
    const landedWhole = failed === 0 && report.broken === undefined && hold === undefined
    // The validators only with a download read whole that landed whole: otherwise the next run must download again
    // (a 304 would hide what did not land, or hold the removals for ever).
    await deps.state.saveMeta(feed.id, {
      owner: deps.owner,
      fetchedAt: now,
      ...(landedWhole ? download.validators : {}),
      ...(counts.held > 0 && hold !== undefined ? { held: { count: counts.held, reason: hold } } : {}),
    })
    const status: FeedStatus =
      failed > 0 && batches.every((b) => b.succeeded === 0) && counts.added + counts.updated + counts.removed > 0
        ? 'failed'
        : failed > 0 || report.broken !== undefined || counts.held > 0
          ? 'partial'
          : 'ok'
    return summary(status, { batches, failed })
  } catch (err) {
    notes.push(`the run stopped: ${describe(err)}; the state keeps what landed, the next run does the rest`)
    return summary('failed')
  } finally {
    progress?.stop()
    staging?.close()
  }
}
