/**
 * The feed job: every enabled feed (FEEDS), or one, run once in turn; the exit code says how it went (tcex's: 0 all
 * ok, 1 failed, 3 partly failed) and the last output line is the JSON summary (one object, or an array for several).
 */
import { loadFeedSettings, type FeedSettings } from '../config/feed-settings.js'
import { platformProfilesFromEnv } from '../config/platform.js'
import { findProjectRoot } from '../contract/project-root.js'
import type { ProcessContext } from '../context/process-context.js'
import { feedDefinition, FEED_IDS, isFeedId } from '../feeds/registry.js'
import { createBatchClient } from '../platform/batch.js'
import { platformHttpSettings } from '../platform/client.js'
import { isAbsolute, resolve } from 'node:path'
import { createFeedDownloader } from './download.js'
import { startProgress } from './progress.js'
import { runFeed, type FeedRunDeps, type FeedRunSummary, type FeedStatus } from './run-feed.js'
import { fencedStateStore, redisStateStore, sqliteStateStore } from './state.js'

const EXIT_CODES: Readonly<Record<FeedStatus, number>> = { ok: 0, failed: 1, partial: 3 }

export interface FeedJobOptions {
  /** The process's context: its request client, shared store and metrics (the service's, or a job's own). */
  readonly context: ProcessContext
  /** One feed (--feed <id>), else every feed in FEEDS. */
  readonly only?: string
  readonly dryRun: boolean
  readonly env: Readonly<Record<string, string | undefined>>
  /** Where progress lines go (the summary line is returned, not written). */
  readonly log: (line: string) => void
  readonly now?: () => number
  /** Between two polls of a batch (ms). */
  readonly pollMs?: number
  readonly ignoreMinInterval?: boolean
  /** Hears each feed's newly added indicators (the alert service's feed rules). */
  readonly onAdded?: FeedRunDeps['onAdded']
  /**
   * Checked before each write to the feeds' state (a scheduled run's lease across replicas): a throw stops the run
   * from committing anything more.
   */
  readonly fence?: () => Promise<void>
  /** Redraw progress in place on this terminal (npm run feed on a TTY); otherwise progress is logged every 10 s. */
  readonly terminal?: { write(text: string): void } | undefined
}

export interface FeedJobResult {
  readonly summaries: readonly FeedRunSummary[]
  readonly exitCode: number
  /** The last output line: the summary as JSON (an array for several feeds). */
  readonly summaryLine: string
}

/** 0 when every feed ran ok, 1 when every one failed, 3 otherwise. */
const jobExitCode = (statuses: readonly FeedStatus[]): number => {
  if (statuses.every((s) => s === 'ok')) return EXIT_CODES.ok
  if (statuses.every((s) => s === 'failed')) return EXIT_CODES.failed
  return EXIT_CODES.partial
}

const failedJob = (why: string): FeedJobResult => {
  const summary = {
    feed: '',
    fetched: 0,
    invalid: 0,
    added: 0,
    updated: 0,
    unchanged: 0,
    removed: 0,
    held: 0,
    failed: 0,
    batches: [],
    status: 'failed' as const,
    dryRun: false,
    notes: [why],
  }
  return { summaries: [summary], exitCode: EXIT_CODES.failed, summaryLine: JSON.stringify(summary) }
}

const selectFeeds = (settings: FeedSettings, only: string | undefined): string[] =>
  only !== undefined
    ? [only]
    : [
        ...new Set(
          settings.feeds
            .split(',')
            .map((id) => id.trim())
            .filter((id) => id !== ''),
        ),
      ]

export const runFeedJob = async (options: FeedJobOptions): Promise<FeedJobResult> => {
  let settings: FeedSettings
  try {
    settings = loadFeedSettings(options.env)
  } catch (err) {
    return failedJob((err as Error).message)
  }
  const ids = selectFeeds(settings, options.only)
  const unknown = ids.filter((id) => !isFeedId(id))
  if (unknown.length > 0)
    return failedJob(`unknown feed ${unknown.map((id) => `'${id}'`).join(', ')} (feeds: ${FEED_IDS.join(', ')})`)

  const { profiles, problems } = platformProfilesFromEnv(options.env)
  const platform = profiles.default
  if (problems.length > 0 && !options.dryRun) return failedJob(problems.join('; '))
  const owner = platform.owner
  if (!options.dryRun && platform.configured && owner === undefined)
    return failedJob('TC_OWNER: the feed job needs the owner its indicators go to')

  const { http, shared } = options.context
  const stateDir = isAbsolute(settings.stateDir) ? settings.stateDir : resolve(findProjectRoot(), settings.stateDir)
  let state
  try {
    state = shared.store === undefined ? sqliteStateStore(stateDir) : redisStateStore(shared.store)
    if (options.fence !== undefined) state = fencedStateStore(state, options.fence)
  } catch (err) {
    return failedJob(`cannot open the feed state in ${stateDir} (FEED_STATE_DIR): ${(err as Error).message}`)
  }
  const batchHttp = platform.configured ? http(platformHttpSettings(platform.apiPath, 'writes')) : undefined
  const batches =
    platform.configured && batchHttp !== undefined
      ? createBatchClient({
          http: batchHttp,
          apiPath: platform.apiPath,
          credentials: platform.credentials,
          ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
        })
      : undefined
  const download = createFeedDownloader({
    http,
    env: options.env,
    root: findProjectRoot(),
    filePath: settings.filePath,
  })
  const terminal = options.terminal
  try {
    const summaries: FeedRunSummary[] = []
    for (const id of ids) {
      const feed = feedDefinition(id as (typeof FEED_IDS)[number], settings.filePath)
      const summary = await runFeed(
        feed,
        {
          download,
          submit:
            batches === undefined || owner === undefined
              ? undefined
              : (action, indicators, writeTypes) => batches.submit(owner, action, indicators, writeTypes),
          state,
          progress: (feedId) =>
            startProgress({
              feed: feedId,
              tty: terminal !== undefined,
              write: (text) => terminal?.write(text),
              log: options.log,
            }),
          owner: owner ?? '(none)',
          now: options.now ?? Date.now,
          log: options.log,
          ...(options.onAdded !== undefined ? { onAdded: options.onAdded } : {}),
        },
        {
          dryRun: options.dryRun,
          removal: settings.removal,
          maxRemovalPercent: settings.maxRemovalPercent,
          maxInvalidPercent: settings.maxInvalidPercent,
          refreshDays: settings.refreshDays,
          expireDays: settings.expireDays,
          batchMaxItems: settings.batchMaxItems,
          batchMaxBytes: settings.batchMaxBytes,
          ...(options.ignoreMinInterval ? { ignoreMinInterval: true } : {}),
        },
      )
      for (const note of summary.notes) options.log(`${id}: ${note}`)
      summaries.push(summary)
    }
    const line = JSON.stringify(summaries.length === 1 ? summaries[0] : summaries)
    return { summaries, exitCode: jobExitCode(summaries.map((s) => s.status)), summaryLine: line }
  } finally {
    batchHttp?.close()
    await state.close()
  }
}
