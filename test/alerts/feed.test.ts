/**
 * The feed service: the feed job's newly added indicators, rated at least a rule's minRating, become alerts; handed
 * over after the batch landed and before the state moved on, so a failure to hand them over re-runs rather than loses.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { jobContext } from '../helpers/context.js'
import t from 'tap'
import { runFeedJob } from '../../src/feed-job/job.js'
import { ACCESS_ID, OWNERS, SECRET_KEY, startSandbox } from '../platform/harness.js'
import { tempDir, testService } from './helpers.js'

const rule = {
  id: 'feed-high',
  service: 'feed',
  minRating: 3,
  feeds: ['file'],
  destinations: { email: ['soc@example.com'] },
}

t.test(
  "a feed run's new indicators rated >= minRating become alerts, once; a failed hand-over holds the state back",
  async (t) => {
    const sandbox = await startSandbox(t, { batch: { pollsUntilDone: 1 } })
    const dir = tempDir(t)
    const feedPath = join(dir, 'feed.csv')
    writeFileSync(
      feedPath,
      [
        'indicator,type,verdict,confidence,tags,comment',
        'a.evil.test,Host,malicious,90,c2,',
        'b.odd.test,Host,suspicious,60,,',
        '',
      ].join('\n'),
    )
    const s = await testService({
      rules: [rule],
      outboxPath: join(dir, 'outbox.db'),
      groupWaitMs: 0,
      smtpUrl: 'smtp://127.0.0.1:9',
    })
    t.teardown(() => s.service.close())
    const env = {
      FEEDS: 'file',
      FEED_FILE_PATH: feedPath,
      FEED_STATE_DIR: join(dir, 'state'),
      TC_API_PATH: sandbox.url,
      TC_API_ACCESS_ID: ACCESS_ID,
      TC_API_SECRET_KEY: SECRET_KEY,
      TC_OWNER: OWNERS[0],
    }
    let handOver = async (
      feed: string,
      items: readonly { type: string; summary: string; rating: number; confidence: number; tags: readonly string[] }[],
    ) => {
      await s.service.observeFeed({ feed, items })
    }
    const context = await jobContext(t, env)
    const run = () =>
      runFeedJob({
        context,
        env,
        dryRun: false,
        log: () => undefined,
        pollMs: 1,
        ignoreMinInterval: true,
        onAdded: (feed, items) => handOver(feed, items),
      })

    const failing = handOver
    handOver = async () => {
      throw new Error('outbox unreachable')
    }
    const first = await run()
    t.equal(first.exitCode, 3, 'uploaded but not handed over: partly')
    t.match(first.summaries[0]?.notes.join(), 'could not be handed to the alert service')
    t.equal((await s.outbox.list({ limit: 10 })).entries.length, 0)

    handOver = failing
    const second = await run()
    t.equal(second.exitCode, 0, second.summaryLine)
    t.equal(second.summaries[0]?.added, 2, 'the state was held back, so both are new again')
    const entries = (await s.outbox.list({ limit: 10 })).entries
    t.same(
      entries.map((e) => e.alert?.indicator.value),
      ['a.evil.test'],
      'only the one rated >= 3',
    )
    t.match(entries[0]?.alert, {
      service: 'feed',
      rule: 'feed-high',
      type: 'feed',
      reason: 'new in feed file',
      details: { feed: 'file' },
    })

    const third = await run()
    t.equal(third.summaries[0]?.added, 0)
    t.equal((await s.outbox.list({ limit: 10 })).entries.length, 1, 'nothing new, no alert')
  },
)
