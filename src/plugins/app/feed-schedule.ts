/**
 * FEED_SCHEDULE inside `npm start`: the feed job on its cron, on the service's own context (its calls count in
 * /metrics, its lines go through the service's logger), handing newly added indicators to the alert service; with
 * Redis, each tick runs on one replica only.
 * `app.feedSchedule` for /health; stopped on close, after a run in progress ends.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { FeedSchedule } from '../../feed-job/schedule.js'
import { redisScheduleLock } from '../../state/schedule-lock.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The feed job's schedule when FEED_SCHEDULE is set, else undefined. */
    feedSchedule: Pick<FeedSchedule, 'status' | 'runTick'> | undefined
  }
}

interface FeedSchedulePluginOptions {
  /** The cron expression (FEED_SCHEDULE); undefined: no schedule. */
  readonly schedule: string | undefined
  /** The environment the feed job reads its settings from. */
  readonly env: Readonly<Record<string, string | undefined>>
}

export default fp(
  async function feedSchedule(app: FastifyInstance, opts: FeedSchedulePluginOptions) {
    if (opts.schedule === undefined || opts.schedule.trim() === '') {
      app.decorate('feedSchedule', undefined)
      return
    }
    // Loaded only when scheduled: the service alone does not pay for the feed job at start-up.
    const { startFeedSchedule } = await import('../../feed-job/schedule.js')
    const store = app.context.shared.store
    const schedule = startFeedSchedule({
      schedule: opts.schedule,
      env: opts.env,
      context: app.context,
      log: app.log,
      // Several replicas on one Redis: each tick runs once among them.
      ...(store !== undefined ? { lock: redisScheduleLock(store) } : {}),
      onAdded: async (feed, items) => void (await app.alerts?.observeFeed({ feed, items })),
    })
    app.decorate('feedSchedule', schedule)
    app.addHook('onClose', async () => schedule.stop())
  },
  { name: 'feed-schedule', dependencies: ['process-context', 'alerts'] },
)
