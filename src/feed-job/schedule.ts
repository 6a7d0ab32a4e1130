/**
 * FEED_SCHEDULE: `npm start` also runs the feed job on a cron expression, one run at a time (a tick that comes while
 * a run is going is skipped and said), and keeps each feed's recent runs for /health and /status. croner does the cron
 * arithmetic. With several replicas on one Redis, a tick runs once among them (src/state/schedule-lock.ts): the
 * replica that takes it runs the job, and before it commits a feed's state it checks it still holds the lease.
 */
import { Cron } from 'croner'
import { processScheduleLock, type ScheduleLock } from '../state/schedule-lock.js'
import { runFeedJob, type FeedJobOptions } from './job.js'
import type { FeedStatus } from './run-feed.js'

/** How many runs per feed /status keeps. */
const KEPT_RUNS = 24

interface FeedLastRun {
  readonly feed: string
  readonly status: FeedStatus
  /** ISO 8601 time the run ended. */
  readonly at: string
  /** The tick it ran for (ISO 8601). */
  readonly tick: string
  readonly added: number
  readonly updated: number
  readonly removed: number
  readonly invalid: number
  readonly held: number
  readonly failed: number
  readonly notes: readonly string[]
}

export interface FeedSchedule {
  /** Each feed's last run (empty until the first run ends) and its recent runs, and when the next run is due. */
  status(): {
    readonly schedule: string
    readonly nextRun: string | undefined
    readonly lastRuns: readonly FeedLastRun[]
    readonly history: Readonly<Record<string, readonly FeedLastRun[]>>
  }
  /** Runs the job for this tick (the cron calls it at each tick; a test may too); answers whether it ran here. */
  runTick(tick: Date): Promise<boolean>
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
  /** One run per tick across replicas (Redis); default: this process alone. */
  readonly lock?: ScheduleLock
}

/** Throws an Error naming FEED_SCHEDULE when the expression is not a cron pattern. */
export const startFeedSchedule = (options: FeedScheduleOptions): FeedSchedule => {
  const history = new Map<string, FeedLastRun[]>()
  const lock = options.lock ?? processScheduleLock()
  let running: Promise<boolean> | undefined
  const runTick = async (tickAt: Date): Promise<boolean> => {
    const tick = tickAt.toISOString()
    const lease = await lock.acquire('feed-job', tick)
    if ('skipped' in lease) {
      options.log.info({ tick, why: lease.skipped }, 'feed job tick skipped here')
      return false
    }
    try {
      const result = await runFeedJob({
        context: options.context,
        env: options.env,
        dryRun: false,
        log: (line) => options.log.info({ feedJob: true }, line),
        fence: () => lease.assertHeld(),
        ...(options.onAdded !== undefined ? { onAdded: options.onAdded } : {}),
      })
      const at = (options.now?.() ?? new Date()).toISOString()
      for (const s of result.summaries) {
        const run: FeedLastRun = {
          feed: s.feed,
          status: s.status,
          at,
          tick,
          added: s.added,
          updated: s.updated,
          removed: s.removed,
          invalid: s.invalid,
          held: s.held,
          failed: s.failed,
          notes: s.notes,
        }
        history.set(s.feed, [...(history.get(s.feed) ?? []), run].slice(-KEPT_RUNS))
      }
      options.log.info(
        { tick, fence: lease.fence, exitCode: result.exitCode, summary: result.summaries },
        'feed job run ended',
      )
      return true
    } finally {
      await lease.finish()
    }
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
      async (self: Cron) => {
        // The tick this replica's cron fired for: every replica names it alike, whatever its small clock drift.
        running = runTick(self.currentRun() ?? new Date()).finally(() => (running = undefined))
        await running
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
      lastRuns: [...history.values()].flatMap((runs) => runs.slice(-1)),
      history: Object.fromEntries(history),
    }),
    runTick,
    async stop() {
      cron.stop()
      await running
    },
  }
}
