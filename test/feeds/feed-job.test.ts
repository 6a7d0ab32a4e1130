/**
 * The feed job end to end: feeds served in their real formats by a local fake, uploaded through the v2 Batch API of
 * the local ThreatConnect stand-in (which checks the job's shape), state in a temporary folder.
 */
import { jobContext } from '../helpers/context.js'
import t from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runFeedJob, type FeedJobResult } from '../../src/feed-job/job.js'
import { runFeed } from '../../src/feed-job/run-feed.js'
import { fileStateStore } from '../../src/feed-job/state.js'
import { spamhausDropFeed } from '../../src/feeds/spamhaus-drop.js'
import { startFakeVendor, type FakeVendor } from '../helpers/fake-vendor.js'
import { ACCESS_ID, SECRET_KEY, startSandbox } from '../platform/harness.js'
import type { SandboxBatchOptions } from '../../tools/tc-sandbox/batch.js'
import { pino } from 'pino'
import { createBatchClient } from '../../src/platform/batch.js'
import { platformHttpSettings } from '../../src/platform/client.js'
import { createHttpClientFactory } from '../../src/http/client.js'
import { loadServiceConfig } from '../../src/config/env.js'
import { Metrics } from '../../src/metrics.js'

const OWNER = 'Acme Org'
const body = (name: string): string => readFileSync(new URL(`./bodies/${name}`, import.meta.url), 'utf8')

interface Setup {
  readonly feeds: FakeVendor
  readonly sandbox: Awaited<ReturnType<typeof startSandbox>>
  readonly stateDir: string
  readonly lines: string[]
  run(extra?: {
    env?: Record<string, string>
    only?: string
    dryRun?: boolean
    ignoreMinInterval?: boolean
  }): Promise<FeedJobResult>
}

const setup = async (t: Parameters<typeof startSandbox>[0], batch: SandboxBatchOptions = {}): Promise<Setup> => {
  const feeds = await startFakeVendor(t)
  const sandbox = await startSandbox(t, { batch: { pollsUntilDone: 2, ...batch } })
  const stateDir = await mkdtemp(join(tmpdir(), 'feed-state-'))
  t.teardown(() => rm(stateDir, { recursive: true, force: true }))
  const lines: string[] = []
  const baseEnv = {
    TC_API_PATH: sandbox.url,
    TC_API_ACCESS_ID: ACCESS_ID,
    TC_API_SECRET_KEY: SECRET_KEY,
    TC_OWNER: OWNER,
    FEED_STATE_DIR: stateDir,
    FEED_SPAMHAUS_DROP_URL: `${feeds.url}/drop_v4.json`,
    FEED_URLHAUS_URL: `${feeds.url}/downloads/csv/`,
    FEED_FEODO_URL: `${feeds.url}/downloads/ipblocklist.json`,
    URLHAUS_API_KEY: 'urlhaus-key-123',
  }
  const context = await jobContext(t, baseEnv)
  return {
    feeds,
    sandbox,
    stateDir,
    lines,
    run: (extra = {}) =>
      runFeedJob({
        context,
        env: { ...baseEnv, ...extra.env },
        dryRun: extra.dryRun ?? false,
        ...(extra.only ? { only: extra.only } : {}),
        log: (line) => lines.push(line),
        pollMs: 1,
        ignoreMinInterval: extra.ignoreMinInterval ?? true,
      }),
  }
}

const drop = (rows: readonly string[], records = rows.length): string =>
  [
    ...rows,
    JSON.stringify({ type: 'metadata', timestamp: 1764583200, size: 1, records, copyright: '(c) Spamhaus' }),
  ].join('\n')
const row = (cidr: string, sbl: string): string => JSON.stringify({ cidr, sblid: sbl, rir: 'arin' })
const TEN = Array.from({ length: 10 }, (_, i) => row(`10.${i}.0.0/16`, `SBL${i}`))

const cidrsIn = (s: Setup): string[] =>
  s.sandbox.app.sandbox.store
    .allIndicators()
    .filter((i) => i.type === 'CIDR')
    .map((i) => i.values['Block'] ?? '')
    .sort()

t.test(
  'first run: every indicator uploaded through a v2 batch job with rating, confidence, tags and provenance',
  async (t) => {
    const s = await setup(t)
    s.feeds.route('GET', '/drop_v4.json', { body: body('spamhaus_drop.json'), headers: { etag: '"v1"' } })
    const result = await s.run({ only: 'spamhaus_drop' })
    t.equal(result.exitCode, 0)
    t.match(JSON.parse(result.summaryLine), {
      feed: 'spamhaus_drop',
      fetched: 3,
      invalid: 0,
      added: 3,
      updated: 0,
      unchanged: 0,
      removed: 0,
      failed: 0,
    })
    const [job] = s.sandbox.app.sandbox.batches
    t.match(job, { owner: OWNER, action: 'Create', status: 'Completed', successCount: 3, errorCount: 0 })
    t.match(job?.settings, {
      version: 'V2',
      haltOnError: 'false',
      attributeWriteType: 'Replace',
      tagWriteType: 'Replace',
    })
    t.ok(job !== undefined && job.polls >= 2, 'the job was polled until Completed')
    t.same(JSON.parse(result.summaryLine).batches, [
      { id: job?.id, action: 'Create', indicators: 3, succeeded: 3, errors: 0 },
    ])
    const cidr = s.sandbox.app.sandbox.store.allIndicators().find((i) => i.values['Block'] === '192.0.2.0/24')
    t.match(cidr, { ownerName: OWNER, rating: 3, confidence: 90, tags: ['spamhaus-drop', 'rir:arin'] })
    t.match(
      cidr?.attributes.map((a) => a.type),
      ['Source', 'External Reference'],
    )
    const state = JSON.parse(await readFile(join(s.stateDir, 'spamhaus_drop.json'), 'utf8')) as {
      etag: string
      indicators: object
    }
    t.equal(state.etag, '"v1"')
    t.equal(Object.keys(state.indicators).length, 3)
  },
)

t.test('unchanged second run uploads nothing; a 304 to If-None-Match too', async (t) => {
  const s = await setup(t)
  s.feeds.route('GET', '/drop_v4.json', (req) =>
    req.headers['if-none-match'] === '"v1"' && s.feeds.requests.length > 2
      ? { status: 304 }
      : { body: body('spamhaus_drop.json'), headers: { etag: '"v1"' } },
  )
  await s.run({ only: 'spamhaus_drop' })
  const second = await s.run({ only: 'spamhaus_drop' })
  t.equal(second.exitCode, 0)
  t.match(JSON.parse(second.summaryLine), { fetched: 3, added: 0, updated: 0, unchanged: 3, removed: 0, batches: [] })
  t.equal(s.sandbox.app.sandbox.batches.length, 1, 'no second batch')
  t.equal(s.feeds.requests[1]?.headers['if-none-match'], '"v1"', 'the ETag was sent back')
  const third = await s.run({ only: 'spamhaus_drop' })
  t.match(JSON.parse(third.summaryLine), { fetched: 0, unchanged: 3, batches: [], notes: [/not modified/] })
})

t.test(
  'a feed that says Last-Modified (and no ETag) is asked If-Modified-Since, and a 304 uploads nothing',
  async (t) => {
    const s = await setup(t)
    const stamp = 'Tue, 01 Dec 2026 10:00:00 GMT'
    s.feeds.route('GET', '/drop_v4.json', (req) =>
      req.headers['if-modified-since'] === stamp
        ? { status: 304 }
        : { body: body('spamhaus_drop.json'), headers: { 'last-modified': stamp } },
    )
    await s.run({ only: 'spamhaus_drop' })
    const second = await s.run({ only: 'spamhaus_drop' })
    t.equal(s.feeds.requests[1]?.headers['if-modified-since'], stamp)
    t.match(JSON.parse(second.summaryLine), { fetched: 0, unchanged: 3, batches: [], notes: [/not modified/] })
    t.equal(s.sandbox.app.sandbox.batches.length, 1)
  },
)

t.test('a changed feed sends only the difference; one that left it is deleted', async (t) => {
  const s = await setup(t)
  let rows = TEN
  s.feeds.route('GET', '/drop_v4.json', () => ({ body: drop(rows) }))
  await s.run({ only: 'spamhaus_drop' })
  rows = [...TEN.slice(2), row('10.1.0.0/16', 'SBL1-changed'), row('10.99.0.0/16', 'SBL99')]
  const result = await s.run({ only: 'spamhaus_drop' })
  t.equal(result.exitCode, 0)
  t.match(JSON.parse(result.summaryLine), { fetched: 10, added: 1, updated: 1, unchanged: 8, removed: 1 })
  const [, create, del] = s.sandbox.app.sandbox.batches
  t.match(create, { action: 'Create', uploaded: 2 })
  t.match(del, { action: 'Delete', uploaded: 1 })
  t.notOk(cidrsIn(s).includes('10.0.0.0/16'), 'the one that left the feed is gone')
  t.ok(cidrsIn(s).includes('10.99.0.0/16'))
  t.equal(cidrsIn(s).length, 10)
})

t.test(
  'FEED_REMOVAL=deactivate leaves it inactive; FEED_MAX_REMOVAL_PERCENT holds a mass removal back (exit 3)',
  async (t) => {
    const s = await setup(t)
    let rows = TEN
    s.feeds.route('GET', '/drop_v4.json', () => ({ body: drop(rows) }))
    await s.run({ only: 'spamhaus_drop' })
    rows = TEN.slice(1)
    const one = await s.run({ only: 'spamhaus_drop', env: { FEED_REMOVAL: 'deactivate' } })
    t.equal(one.exitCode, 0)
    const gone = s.sandbox.app.sandbox.store.allIndicators().find((i) => i.values['Block'] === '10.0.0.0/16')
    t.equal(gone?.active, false, 'deactivated, not deleted')
    rows = TEN.slice(5)
    const many = await s.run({ only: 'spamhaus_drop' })
    t.equal(many.exitCode, 3)
    t.match(JSON.parse(many.summaryLine), {
      removed: 0,
      status: 'partial',
      notes: [/nothing removed: 4 of 9 indicators \(44\.4%\) would go, over FEED_MAX_REMOVAL_PERCENT \(20%\)/],
    })
    t.equal(cidrsIn(s).length, 10, 'nothing removed')
  },
)

t.test('a truncated download adds what it holds and removes nothing (exit 3)', async (t) => {
  const s = await setup(t)
  let text = drop(TEN)
  s.feeds.route('GET', '/drop_v4.json', () => ({ body: text }))
  await s.run({ only: 'spamhaus_drop' })
  text = TEN.slice(0, 4).join('\n')
  const result = await s.run({ only: 'spamhaus_drop' })
  t.equal(result.exitCode, 3)
  t.match(JSON.parse(result.summaryLine), {
    removed: 0,
    status: 'partial',
    notes: [/incomplete download: no metadata line/, /nothing removed: the download is not whole/],
  })
  t.equal(cidrsIn(s).length, 10)
})

t.test('a batch with errors does not advance the state; the next run completes it, with nothing doubled', async (t) => {
  let refuse = true
  const s = await setup(t, { refuse: (summary) => refuse && summary === '10.3.0.0/16' })
  s.feeds.route('GET', '/drop_v4.json', () => ({ body: drop(TEN) }))
  const first = await s.run({ only: 'spamhaus_drop' })
  t.equal(first.exitCode, 3)
  t.match(JSON.parse(first.summaryLine), { failed: 1, status: 'partial', notes: [/state not advanced/] })
  t.match(s.lines.join('\n'), /0x1005: Invalid Indicator Error/)
  await t.rejects(readFile(join(s.stateDir, 'spamhaus_drop.json'), 'utf8'), 'no state written')
  refuse = false
  const second = await s.run({ only: 'spamhaus_drop' })
  t.equal(second.exitCode, 0)
  t.match(JSON.parse(second.summaryLine), { added: 10, failed: 0 })
  t.equal(cidrsIn(s).length, 10, 'each indicator once')
  const third = await s.run({ only: 'spamhaus_drop' })
  t.match(JSON.parse(third.summaryLine), { added: 0, unchanged: 10, batches: [] })
})

t.test(
  'a run killed after its upload (before its state) is done again by the next run: nothing lost, nothing doubled',
  async (t) => {
    const s = await setup(t)
    s.feeds.route('GET', '/drop_v4.json', () => ({ body: drop(TEN) }))
    // The real upload to the stand-in, but the process "dies" right after ThreatConnect accepted the batch: the state
    // is never written.
    const state = fileStateStore(s.stateDir)
    const batches = createBatchClient({
      http: createHttpClientFactory({
        config: loadServiceConfig({}, []),
        log: pino({ level: 'silent' }),
        metrics: new Metrics(),
        userAgent: 'test',
      })(platformHttpSettings(s.sandbox.url, 'writes')),
      apiPath: s.sandbox.url,
      credentials: { kind: 'hmac', accessId: ACCESS_ID, secretKey: SECRET_KEY },
      pollMs: 1,
    })
    const dying = { ...state, save: () => Promise.reject(new Error('killed')) }
    const killed = await runFeed(
      spamhausDropFeed,
      {
        fetch: async () => ({ notModified: false, text: drop(TEN), etag: undefined }),
        submit: (action, indicators) => batches.submit(OWNER, action, indicators),
        state: dying,
        owner: OWNER,
        now: Date.now,
        log: () => undefined,
      },
      { dryRun: false, removal: 'delete', maxRemovalPercent: 20, refreshDays: 30 },
    )
    t.match(killed, { status: 'partial', notes: [/state could not be saved.*killed/] })
    const rerun = await s.run({ only: 'spamhaus_drop' })
    t.equal(rerun.exitCode, 0)
    t.match(JSON.parse(rerun.summaryLine), { added: 10 })
    const again = await s.run({ only: 'spamhaus_drop' })
    t.match(JSON.parse(again.summaryLine), { added: 0, unchanged: 10 })
    t.equal(cidrsIn(s).length, 10)
  },
)

t.test('--dry-run fetches, parses and diffs, and writes nothing to ThreatConnect or the state', async (t) => {
  const s = await setup(t)
  s.feeds.route('GET', '/drop_v4.json', { body: body('spamhaus_drop.json') })
  const result = await s.run({ only: 'spamhaus_drop', dryRun: true })
  t.equal(result.exitCode, 0)
  t.match(JSON.parse(result.summaryLine), { added: 3, dryRun: true, batches: [] })
  t.match(s.lines, [/spamhaus_drop \(dry run\): would add 3, update 0, refresh 0, leave 0, delete 0; nothing written/])
  t.equal(s.sandbox.app.sandbox.requests.length, 0, 'ThreatConnect was not called')
  await t.rejects(readFile(join(s.stateDir, 'spamhaus_drop.json'), 'utf8'), 'no state written')
})

t.test(
  'several feeds: the last line is an array of summaries; a 401 says which key to set; exit 3 when some failed',
  async (t) => {
    const s = await setup(t)
    s.feeds.route('GET', '/drop_v4.json', { body: body('spamhaus_drop.json') })
    s.feeds.route('GET', '/downloads/csv/', (req) =>
      req.headers['auth-key'] === 'urlhaus-key-123'
        ? { status: 401, json: { query_status: 'unknown_auth_key' } }
        : { status: 500 },
    )
    s.feeds.route('GET', '/downloads/ipblocklist.json', { body: body('feodo.json') })
    const result = await s.run({ env: { FEEDS: 'spamhaus_drop,urlhaus,feodo' } })
    t.equal(result.exitCode, 3)
    const summaries = JSON.parse(result.summaryLine) as { feed: string; status: string; notes: string[] }[]
    t.same(
      summaries.map((x) => [x.feed, x.status]),
      [
        ['spamhaus_drop', 'ok'],
        ['urlhaus', 'failed'],
        ['feodo', 'ok'],
      ],
    )
    t.match(summaries[1]?.notes, [/abuse.ch URLhaus refused the download: .*401.*; check URLHAUS_API_KEY/])
    t.notMatch(result.summaryLine + s.lines.join('\n'), /urlhaus-key-123/, 'the key is in no output')
    t.equal(
      s.sandbox.app.sandbox.store.allIndicators().filter((i) => i.type === 'Address').length,
      2,
      "feodo's C2s landed",
    )
  },
)

t.test(
  'the embedded default: FEEDS=file ingests the dated sample; an unknown feed or a missing owner is a clear failure',
  async (t) => {
    const s = await setup(t)
    const result = await s.run({ env: {} })
    t.equal(result.exitCode, 0)
    t.match(JSON.parse(result.summaryLine), { feed: 'file', fetched: 6, added: 6 })
    t.equal(s.sandbox.app.sandbox.store.allIndicators().length, 6)
    const unknown = await s.run({ only: 'nosuchfeed' })
    t.equal(unknown.exitCode, 1)
    t.match(unknown.summaryLine, /unknown feed 'nosuchfeed'/)
    const noOwner = await s.run({ env: { TC_OWNER: '' } })
    t.equal(noOwner.exitCode, 1)
    t.match(noOwner.summaryLine, /TC_OWNER/)
  },
)

t.test("the feed's minimum interval: a second run inside it does not fetch", async (t) => {
  const s = await setup(t)
  s.feeds.route('GET', '/drop_v4.json', { body: body('spamhaus_drop.json') })
  await s.run({ only: 'spamhaus_drop' })
  const soon = await s.run({ only: 'spamhaus_drop', ignoreMinInterval: false })
  t.equal(soon.exitCode, 0)
  t.match(JSON.parse(soon.summaryLine), { fetched: 0, unchanged: 3, notes: [/at most one fetch every 60 min/] })
  t.equal(s.feeds.requests.length, 1)
})
