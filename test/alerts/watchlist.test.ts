/**
 * The watchlist service against the local ThreatConnect stand-in (tools/tc-sandbox): TQL over the owner's indicators,
 * oldest change first, from a checkpoint less an overlap; what the overlap sees again is not sent again; a changed
 * rating is news. And `npm run alerts` (runAlertsOnce): a dry run prints and sends nothing; exit 0, 1 and 3.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { runAlertsOnce } from '../../src/alerts/run-once.js'
import { watchlistSince, watchlistTql, WATCHLIST_OVERLAP_MS } from '../../src/alerts/services/watchlist.js'
import { ACCESS_ID, OWNERS, SECRET_KEY, platformClient, startSandbox } from '../platform/harness.js'
import { SLACK_TOKEN, slackError, startFakeSlack, tempDir, testService } from './helpers.js'

const OWNER = OWNERS[0]
const rule = {
  id: 'high',
  service: 'watchlist',
  tql: 'rating GEQ 3',
  destinations: { slackChannels: ['#watch'] },
}

t.test('the TQL: the rule whole in parentheses, then changes since the checkpoint less the overlap', async (t) => {
  const now = Date.parse('2026-12-01T12:00:00Z')
  t.equal(
    watchlistSince('2026-12-01T11:00:00Z', now),
    new Date(Date.parse('2026-12-01T11:00:00Z') - WATCHLIST_OVERLAP_MS).toISOString(),
  )
  t.equal(watchlistSince(undefined, now), '2026-11-30T12:00:00.000Z', 'a first poll looks back a day')
  t.equal(watchlistTql('rating GEQ 3 OR tag EQ "x"', 'T'), '(rating GEQ 3 OR tag EQ "x") AND lastModified GT "T"')
})

t.test('polls find what matches once; the overlap sends nothing twice; a new rating is a new alert', async (t) => {
  let wall = Date.now()
  const sandbox = await startSandbox(t, { now: () => wall })
  const client = platformClient(t, sandbox.url)
  const slack = await startFakeSlack(t)
  const a = await client.createIndicator('Host', 'a.evil.test', OWNER)
  await client.updateIndicator(a.id, { rating: 4 })
  const b = await client.createIndicator('Host', 'b.evil.test', OWNER)
  await client.updateIndicator(b.id, { rating: 1 })
  const s = await testService({
    rules: [rule],
    outboxPath: join(tempDir(t), 'outbox.db'),
    slackUrl: slack.url,
    groupWaitMs: 0,
    start: wall,
    threatConnect: { owner: OWNER, queryIndicators: (tql, options) => client.queryIndicators(tql, options) },
  })
  const service = { pollWatchlists: () => s.service.poll() }
  // The wall clock the worker polls with is the test's own (the sandbox dates lastModified with it too).
  const advance = async (ms: number) => {
    wall += ms
    await s.advance(ms)
  }
  t.same(await service.pollWatchlists(), [{ rule: 'high', found: 1, added: 1 }])
  const checkpoint = await s.outbox.meta('checkpoint:watchlist:high')
  t.ok(checkpoint !== undefined, 'the checkpoint moved')
  await advance(60_000)
  t.same(
    await service.pollWatchlists(),
    [{ rule: 'high', found: 1, added: 0 }],
    'seen again within the overlap: not added again',
  )
  await advance(10_000)
  await client.updateIndicator(b.id, { rating: 5 })
  t.same(await service.pollWatchlists(), [{ rule: 'high', found: 2, added: 1 }], 'b now matches')
  await advance(10_000)
  await client.updateIndicator(a.id, { rating: 5 })
  t.same(await service.pollWatchlists(), [{ rule: 'high', found: 2, added: 1 }], "a's new rating is news")
  const listing = await s.outbox.list({ limit: 10 })
  t.same(listing.entries.map((e) => `${e.alert?.indicator.value}:${e.alert?.rating}`).sort(), [
    'a.evil.test:4',
    'a.evil.test:5',
    'b.evil.test:5',
  ])
  t.ok(
    listing.entries.every((e) => e.alert?.link?.startsWith('https://') === true),
    'each alert links to the indicator',
  )
  await s.service.close()
})

t.test(
  'npm run alerts: a dry run prints and sends nothing; a run sends and exits 0; a refused message exits 3; a broken rule exits 1',
  async (t) => {
    const sandbox = await startSandbox(t)
    const client = platformClient(t, sandbox.url)
    const slack = await startFakeSlack(t)
    const a = await client.createIndicator('Host', 'a.evil.test', OWNER)
    await client.updateIndicator(a.id, { rating: 4 })
    const dir = tempDir(t)
    const rules = join(dir, 'rules.json')
    writeFileSync(rules, JSON.stringify({ rules: [rule] }))
    const env = {
      ALERTS_CONFIG: rules,
      ALERTS_OUTBOX_PATH: join(dir, 'outbox.db'),
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_API_URL: slack.url,
      TC_API_PATH: sandbox.url,
      TC_API_ACCESS_ID: ACCESS_ID,
      TC_API_SECRET_KEY: SECRET_KEY,
      TC_OWNER: OWNER,
    }
    const printed: string[] = []
    const run = (dryRun: boolean, over: Record<string, string> = {}) =>
      runAlertsOnce({ env: { ...env, ...over }, root: dir, dryRun, print: (line) => printed.push(line) })

    const dry = await run(true)
    t.equal(dry.exitCode, 0)
    t.match(printed.join('\n'), 'would raise: rating 4 (High): Host a.evil.test')
    t.equal(slack.posts().length, 0, 'a dry run sends nothing')
    t.match(JSON.parse(dry.summaryLine), { dryRun: true, outbox: { pending: 0, sent: 0 } })

    const real = await run(false)
    t.equal(real.exitCode, 0, real.summaryLine)
    t.equal(slack.accepted().length, 1)
    t.match(JSON.parse(real.summaryLine), { status: 'ok', messages: { sent: 1 }, outbox: { sent: 1 } })

    const b = await client.createIndicator('Host', 'b.evil.test', OWNER)
    await client.updateIndicator(b.id, { rating: 5 })
    slack.answerPosts(slackError('channel_not_found'))
    const refused = await run(false)
    t.equal(refused.exitCode, 3, 'the poll worked, the message was refused: partly')
    t.match(JSON.parse(refused.summaryLine), { status: 'partial', messages: { dead: 1 } })

    writeFileSync(rules, JSON.stringify({ rules: [{ ...rule, tql: 'rating GEQ' }] }))
    const broken = await run(false)
    t.equal(broken.exitCode, 1, broken.summaryLine)
    t.match(JSON.parse(broken.summaryLine).polls[0].error, /Invalid TQL/)

    const noConfig = await runAlertsOnce({ env: {}, root: dir, dryRun: false, print: () => undefined })
    t.equal(noConfig.exitCode, 1)
    t.match(noConfig.summaryLine, 'ALERTS_CONFIG is not set')
    writeFileSync(rules, JSON.stringify({ rules: [{ ...rule, service: 'nope' }] }))
    const bad = await run(false)
    t.equal(bad.exitCode, 1)
    t.match(bad.summaryLine, "rule 'high': service")
  },
)
