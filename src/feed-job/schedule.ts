/**
 * FEED_SCHEDULE: `npm start` also runs the feed job on a cron expression, one run at a time (a tick that comes while
 * a run is going is skipped and said), and keeps each feed's last run for /health. croner does the cron arithmetic.
 */
import { Cron } from 'croner'
import { runFeedJob, type FeedJobOptions } from './job.js'
import type { FeedStatus } from './run-feed.js'

interface FeedLastRun {
  readonly feed: string
  readonly status: FeedStatus
  /** ISO 8601 time the run ended. */
  readonly at: string
  readonly added: number
  readonly updated: number
  readonly removed: number
  readonly failed: number
  readonly notes: readonly string[]
}

export interface FeedSchedule {
  /** Each feed's last run (empty until the first run ends), and when the next run is due. */
  status(): {
    readonly schedule: string
    readonly nextRun: string | undefined
    readonly lastRuns: readonly FeedLastRun[]
  }
  /** Stops the schedule and waits for a run in progress. */
  stop(): Promise<void>
}

export interface FeedScheduleOptions {
  readonly schedule: string
  /** The service's context: the runs' calls count in its metrics and log through its logger. */
  readonly context: FeedJobOptions['context']
  readonly env: Readonly<Record<string, string | undefined>>
  readonly log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }
  readonly now?: () => Date
  /** Hears each feed's newly added indicators (the alert service's feed rules). */
  readonly onAdded?: FeedJobOptions['onAdded']
}

/** Throws an Error naming FEED_SCHEDULE when the expression is not a cron pattern. */
export const startFeedSchedule = (options: FeedScheduleOptions): FeedSchedule => {
  const lastRuns = new Map<string, FeedLastRun>()
  let running: Promise<void> | undefined
  const runOnce = async (): Promise<void> => {
    const result = await runFeedJob({
      context: options.context,
      env: options.env,
      dryRun: false,
      log: (line) => options.log.info({ feedJob: true }, line),
      ...(options.onAdded !== undefined ? { onAdded: options.onAdded } : {}),
    })
    const at = (options.now?.() ?? new Date()).toISOString()
    for (const s of result.summaries) {
      lastRuns.set(s.feed, {
        feed: s.feed,
        status: s.status,
        at,
        added: s.added,
        updated: s.updated,
        removed: s.removed,
        failed: s.failed,
        notes: s.notes,
      })
    }
    options.log.info({ exitCode: result.exitCode, summary: result.summaries }, 'feed job run ended')
  }
  let cron: Cron
  try {
    cron = new Cron(
      options.schedule,
      {
        protect: () =>
          options.log.warn(
            { schedule: options.schedule },
            'feed job still running at its next tick; this tick is skipped',
          ),
        catch: (err: unknown) => options.log.warn({ err }, 'feed job run failed'),
      },
      () => {
        running = runOnce().finally(() => (running = undefined))
        return running
      },
    )
  } catch (err) {
    throw new Error(`FEED_SCHEDULE: '${options.schedule}' is not a cron expression (${(err as Error).message})`, {
      cause: err,
    })
  }
  return {
    status: () => ({
      schedule: options.schedule,
      nextRun: cron.nextRun()?.toISOString(),
      lastRuns: [...lastRuns.values()],
    }),
    async stop() {
      cron.stop()
      await running
    },
  }
}
