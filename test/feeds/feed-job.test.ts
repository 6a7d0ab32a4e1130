/**
 * The feed job end to end: real, dated feed excerpts (test/feeds/bodies/SOURCES.md) served by a local fake, uploaded
 * through the v2 Batch API of the local ThreatConnect stand-in, which answers as the platform's documentation shows
 * (test/platform/batch-docs.test.ts holds it to that) and applies the documented write types. State in SQLite in a
 * temporary folder. Each numbered defect of the feed job review has its test here.
 */
import { jobContext } from '../helpers/context.js'
import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { zipSync, strToU8 } from 'fflate'
import { runFeedJob, type FeedJobResult } from '../../src/feed-job/job.js'
import { sqliteStateStore } from '../../src/feed-job/state.js'
import { startFakeVendor, type FakeVendor } from '../helpers/fake-vendor.js'
import { ACCESS_ID, SECRET_KEY, startSandbox } from '../platform/harness.js'
import type { SandboxBatchOptions } from '../../tools/tc-sandbox/batch.js'

const OWNER = 'Acme Org'
const body = (name: string): string => readFileSync(new URL(`./bodies/${name}`, import.meta.url), 'utf8')
const DROP = body('spamhaus-drop-v4-2025-06-14.json')
const URLHAUS = body('urlhaus-csv-recent-2026-02-26.csv')
const THREATFOX = body('threatfox-export-2026-10-03.json')
const FEODO = body('feodo-ipblocklist-2026-10-05.json')

interface Summary {
  feed: string
  fetched: number
  invalid: number
  added: number
  updated: number
  unchanged: number
  removed: number
  held: number
  failed: number
  status: string
  notes: string[]
  batches: { action: string; indicators: number }[]
}

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
    now?: number
  }): Promise<FeedJobResult>
}

const setup = async (t: Test, batch: SandboxBatchOptions = {}): Promise<Setup> => {
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
    FEED_URLHAUS_URL: `${feeds.url}/downloads/csv_recent/`,
    FEED_FEODO_URL: `${feeds.url}/downloads/ipblocklist.json`,
    FEED_THREATFOX_URL: `${feeds.url}/export/json/recent/`,
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
        ...(extra.now !== undefined ? { now: () => extra.now as number } : {}),
        log: (line) => lines.push(line),
        pollMs: 1,
        ignoreMinInterval: extra.ignoreMinInterval ?? true,
      }),
  }
}

const summaryOf = (r: FeedJobResult): Summary => JSON.parse(r.summaryLine) as Summary
const drop = (rows: readonly string[]): string =>
  `${[...rows, JSON.stringify({ type: 'metadata', timestamp: 1764583200, size: 1, records: rows.length })].join('\n')}\n`
const row = (cidr: string, sbl: string): string => JSON.stringify({ cidr, sblid: sbl, rir: 'arin' })
const TEN = Array.from({ length: 10 }, (_, i) => row(`10.${i}.0.0/16`, `SBL${i}`))
const indicators = (s: Setup, type: string) =>
  s.sandbox.app.sandbox.store.allIndicators().filter((i) => i.type === type)
const cidr = (s: Setup, block: string) => indicators(s, 'CIDR').find((i) => i.values['Block'] === block)

t.test(
  '1. every upload lands on a platform that answers as the documentation does (202 Queued, Created..Completed)',
  async (t) => {
    const s = await setup(t)
    s.feeds.route('GET', '/drop_v4.json', { body: DROP, headers: { etag: '"v1"' } })
    const result = await s.run({ only: 'spamhaus_drop' })
    t.equal(result.exitCode, 0, result.summaryLine)
    t.match(summaryOf(result), { fetched: 8, added: 7, updated: 0, removed: 0, failed: 0, status: 'ok' })
    const [job] = s.sandbox.app.sandbox.batches
    t.match(job, { owner: OWNER, action: 'Create', status: 'Completed', successCount: 7, errorCount: 0 })
    t.ok(job !== undefined && job.polls >= 2, 'polled through Running until Completed')
    t.match(cidr(s, '1.10.16.0/20'), {
      ownerName: OWNER,
      rating: 3,
      confidence: 90,
      tags: ['spamhaus-drop', 'rir:apnic'],
    })
  },
)

t.test(
  '2. URLhaus: its full dump is a ZIP holding csv.txt (read); a binary or HTML body is an error naming URL and type',
  async (t) => {
    const s = await setup(t)
    const zip = Buffer.from(zipSync({ 'csv.txt': strToU8(URLHAUS) }))
    s.feeds.route('GET', '/downloads/csv/', { body: zip, headers: { 'content-type': 'application/zip', etag: '"z1"' } })
    const zipped = await s.run({ only: 'urlhaus', env: { FEED_URLHAUS_URL: `${s.feeds.url}/downloads/csv/` } })
    t.equal(zipped.exitCode, 0, zipped.summaryLine)
    t.match(summaryOf(zipped), { fetched: 10, invalid: 0, added: 10 })
    t.equal(indicators(s, 'URL').length, 10)
    t.notOk(
      indicators(s, 'URL').some((i) => i.tags.includes('None')),
      'no tag None (8.)',
    )

    s.feeds.route('GET', '/downloads/png/', {
      body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      headers: { 'content-type': 'text/csv' },
    })
    const binary = await s.run({ only: 'urlhaus', env: { FEED_URLHAUS_URL: `${s.feeds.url}/downloads/png/` } })
    t.equal(binary.exitCode, 1)
    t.match(summaryOf(binary), {
      fetched: 0,
      invalid: 0,
      added: 0,
      notes: [/\/downloads\/png\/ \(served as text\/csv\) is binary, not the feed's text/],
    })
    s.feeds.route('GET', '/downloads/login/', {
      body: '<!DOCTYPE html><title>Sign in</title>',
      headers: { 'content-type': 'text/html' },
    })
    const page = await s.run({ only: 'urlhaus', env: { FEED_URLHAUS_URL: `${s.feeds.url}/downloads/login/` } })
    t.match(summaryOf(page), { status: 'failed', fetched: 0, notes: [/served as text\/html\) is an HTML page/] })
  },
)

t.test(
  '3. a download that did not complete keeps no validators: the next run downloads again and lands it all',
  async (t) => {
    const s = await setup(t)
    let cut = true
    s.feeds.route('GET', '/drop_v4.json', (req) =>
      req.headers['if-none-match'] === '"v1"'
        ? { status: 304 }
        : cut
          ? { body: DROP, headers: { etag: '"v1"' }, cutAfter: 200 }
          : { body: DROP, headers: { etag: '"v1"' } },
    )
    const first = await s.run({ only: 'spamhaus_drop' })
    t.equal(first.exitCode, 1, 'a connection cut mid-body is a failed download')
    t.match(summaryOf(first).notes, [/download failed while reading/])
    cut = false
    const second = await s.run({ only: 'spamhaus_drop' })
    t.equal(s.feeds.requests[1]?.headers['if-none-match'], undefined, 'no ETag from the cut download was kept')
    t.match(summaryOf(second), { added: 7, status: 'ok' })
    const third = await s.run({ only: 'spamhaus_drop' })
    t.equal(s.feeds.requests[2]?.headers['if-none-match'], '"v1"', 'a whole download that landed keeps its ETag')
    t.match(summaryOf(third), { fetched: 0, notes: [/not modified/] })
    // A download read whole but structurally cut (no metadata line) keeps none either.
    const s2 = await setup(t)
    let text = `${DROP.trim().split('\n').slice(0, 4).join('\n')}\n`
    s2.feeds.route('GET', '/drop_v4.json', (req) =>
      req.headers['if-none-match'] === '"v2"' ? { status: 304 } : { body: text, headers: { etag: '"v2"' } },
    )
    t.equal((await s2.run({ only: 'spamhaus_drop' })).exitCode, 3)
    text = DROP
    const whole = await s2.run({ only: 'spamhaus_drop' })
    t.equal(s2.feeds.requests[1]?.headers['if-none-match'], undefined)
    t.match(summaryOf(whole), { added: 3, unchanged: 4 })
  },
)

t.test(
  '4. an update never removes a tag or attribute the feed did not write, and never doubles one it did',
  async (t) => {
    const s = await setup(t)
    let rows = TEN
    s.feeds.route('GET', '/drop_v4.json', () => ({ body: drop(rows) }))
    await s.run({ only: 'spamhaus_drop' })
    const store = s.sandbox.app.sandbox.store
    const target = cidr(s, '10.1.0.0/16')
    if (target === undefined) throw new Error('not landed')
    store.apply(target, {
      tags: { names: ['analyst-reviewed'], mode: 'append' },
      attributes: { items: [{ type: 'Description', value: 'seen in our proxy logs' }], mode: 'append' },
    })
    rows = TEN.map((r) => r.replace('"rir":"arin"', '"rir":"ripencc"'))
    const update = await s.run({ only: 'spamhaus_drop' })
    t.match(summaryOf(update), { updated: 10 })
    t.same(s.sandbox.app.sandbox.batches.at(-1)?.settings['attributeWriteType'], 'Singleton')
    t.same(s.sandbox.app.sandbox.batches.at(-1)?.settings['tagWriteType'], 'Append')
    const after = cidr(s, '10.1.0.0/16')
    t.ok(after?.tags.includes('analyst-reviewed'), "the analyst's tag stays")
    t.ok(after?.tags.includes('rir:ripencc'), 'the new tag is there')
    t.ok(
      after?.attributes.some((a) => a.value === 'seen in our proxy logs'),
      "the analyst's attribute stays",
    )
    rows = TEN.map((r) => r.replace('"rir":"arin"', '"rir":"lacnic"'))
    await s.run({ only: 'spamhaus_drop' })
    const sources = cidr(s, '10.1.0.0/16')?.attributes.filter((a) => a.type === 'Source') ?? []
    t.equal(sources.length, 1, "the feed's Source attribute once, after two updates")
  },
)

t.test(
  '5. invalid rows under FEED_MAX_INVALID_PERCENT do not hold removals; held ones stay pending and are reported, even on a 304; FEED_EXPIRE_DAYS removes them',
  async (t) => {
    const s = await setup(t)
    const many = Array.from({ length: 200 }, (_, i) => row(`10.${i >> 8}.${i & 255}.0/24`, `SBL${i}`))
    let text = drop(many)
    let answer304 = false
    // The ETag follows the content, as a real server's does.
    const etag = (): string => `"${text.length}-${text.charCodeAt(text.length - 40)}"`
    s.feeds.route('GET', '/drop_v4.json', (req) =>
      answer304 || req.headers['if-none-match'] === etag()
        ? { status: 304 }
        : { body: text, headers: { etag: etag() } },
    )
    const day = 86_400_000
    const start = Date.parse('2026-11-01T00:00:00Z')
    await s.run({ only: 'spamhaus_drop', now: start })
    // One odd row and ten that left: 1 in 191 rows is under 1%, 10 of 200 under 20%: the removals go.
    text = drop([...many.slice(10), row('not-a-cidr', 'SBLx')])
    const tolerant = await s.run({ only: 'spamhaus_drop', now: start + day })
    t.match(summaryOf(tolerant), { invalid: 1, removed: 10, held: 0, status: 'ok' })
    t.match(s.lines.join('\n'), /spamhaus_drop: line 191: .*not-a-cidr/, 'the bad row is reported with its line')
    // Half the feed gone at once: held, pending, reported (exit 3), and a 304 does not turn it into "ok".
    text = drop(many.slice(100))
    const held = await s.run({ only: 'spamhaus_drop', now: start + 2 * day })
    t.equal(held.exitCode, 3)
    t.match(summaryOf(held), {
      removed: 0,
      held: 90,
      status: 'partial',
      notes: [/90 removals held back: 90 of 190 indicators \(47\.4%\) would go, over FEED_MAX_REMOVAL_PERCENT/],
    })
    const again = await s.run({ only: 'spamhaus_drop', now: start + 3 * day })
    t.equal(again.exitCode, 3, 'still held: exit 3 again')
    t.equal(
      s.feeds.requests.at(-1)?.headers['if-none-match'],
      undefined,
      'a held run keeps no validators: it looks again',
    )
    t.match(summaryOf(again), { held: 90 })
    answer304 = true
    const notModified = await s.run({ only: 'spamhaus_drop', now: start + 4 * day })
    t.equal(notModified.exitCode, 3, 'a 304 does not turn a held run into "ok"')
    t.match(summaryOf(notModified), {
      held: 90,
      status: 'partial',
      notes: [/not modified/, /90 removals still held back/],
    })
    const skipped = await s.run({ only: 'spamhaus_drop', now: start + 4 * day + 1_000, ignoreMinInterval: false })
    t.match(
      summaryOf(skipped),
      { held: 90, status: 'partial', notes: [/not fetched/, /still held back/] },
      'nor does a run inside the minimum interval',
    )
    answer304 = false
    // Unseen for FEED_EXPIRE_DAYS: removed whatever the guard says.
    const late = await s.run({ only: 'spamhaus_drop', now: start + 40 * day, env: { FEED_EXPIRE_DAYS: '30' } })
    t.match(summaryOf(late), {
      removed: 90,
      held: 0,
      notes: [/90 unseen for 30 days or more \(FEED_EXPIRE_DAYS\): removed all the same/],
    })
    t.equal(indicators(s, 'CIDR').filter((i) => i.active).length, 100)
  },
)

t.test('6. a change of last seen alone is no update (it goes out with the refresh)', async (t) => {
  const s = await setup(t)
  let text = THREATFOX
  s.feeds.route('GET', '/export/json/recent/', () => ({ body: text }))
  await s.run({ only: 'threatfox' })
  text = THREATFOX.replaceAll('"last_seen_utc": null', '"last_seen_utc": "2026-10-04 09:00:00"')
  const later = await s.run({ only: 'threatfox' })
  t.match(summaryOf(later), { added: 0, updated: 0, unchanged: 5, batches: [] })
  const refreshed = await s.run({
    only: 'threatfox',
    env: { FEED_REFRESH_DAYS: '1' },
    now: Date.now() + 2 * 86_400_000,
  })
  t.match(summaryOf(refreshed), { updated: 5 }, 'the refresh sends them, last seen included')
  t.equal(indicators(s, 'Host')[0]?.lastSeen, '2026-10-04T09:00:00Z')
})

t.test(
  '7. ThreatFox IOCs of one indicator are merged: every port and family kept, the highest confidence',
  async (t) => {
    const s = await setup(t)
    const withFamily = JSON.parse(THREATFOX) as Record<string, Record<string, unknown>[]>
    // One more IOC of 144.172.68.200, another family (as 43.139.108.161 had Cobalt Strike and VShell in the review).
    withFamily['1948840'] = [
      {
        ...withFamily['1948834']?.[0],
        ioc_value: '144.172.68.200:443',
        malware_printable: 'VShell',
        confidence_level: 75,
      },
    ]
    s.feeds.route('GET', '/export/json/recent/', { body: JSON.stringify(withFamily) })
    const result = await s.run({ only: 'threatfox' })
    t.match(summaryOf(result), { fetched: 7, added: 5, notes: [/2 rows repeat an indicator of another row: merged/] })
    const ip = indicators(s, 'Address').find((i) => i.values['ip'] === '144.172.68.200')
    t.match(ip, { confidence: 100 })
    t.same(
      ip?.attributes
        .filter((a) => a.type === 'Source')
        .map((a) => a.value)
        .sort(),
      [
        'abuse.ch ThreatFox IOC 1948833 (botnet_cc on port 80)',
        'abuse.ch ThreatFox IOC 1948834 (botnet_cc on port 8080)',
        'abuse.ch ThreatFox IOC 1948840 (botnet_cc on port 443)',
      ],
    )
    t.ok(ip?.tags.includes('Cobalt Strike') && ip.tags.includes('VShell'), 'both families')
    t.ok(ip?.tags.includes('compromised'), 'is_compromised says so')
  },
)

t.test('10. uploads are split by count and by bytes (FEED_BATCH_MAX_ITEMS, FEED_BATCH_MAX_BYTES)', async (t) => {
  const s = await setup(t)
  s.feeds.route('GET', '/drop_v4.json', { body: drop(TEN) })
  const byCount = await s.run({ only: 'spamhaus_drop', env: { FEED_BATCH_MAX_ITEMS: '4' } })
  t.same(
    summaryOf(byCount).batches.map((b) => b.indicators),
    [4, 4, 2],
  )
  const s2 = await setup(t)
  s2.feeds.route('GET', '/drop_v4.json', { body: drop(TEN) })
  const byBytes = await s2.run({ only: 'spamhaus_drop', env: { FEED_BATCH_MAX_BYTES: '1024' } })
  const sizes = summaryOf(byBytes).batches.map((b) => b.indicators)
  t.ok(sizes.length > 1 && sizes.reduce((a, b) => a + b, 0) === 10, `split by bytes: ${sizes.join(', ')}`)
  t.ok(
    s2.sandbox.app.sandbox.batches.every((b) => b.bytes <= 1024),
    'no upload over the byte limit',
  )
})

t.test('11. a netblock listed twice keeps both references, and a list that only swaps them is no change', async (t) => {
  const s = await setup(t)
  let text = DROP
  s.feeds.route('GET', '/drop_v4.json', () => ({ body: text }))
  await s.run({ only: 'spamhaus_drop' })
  t.same(
    cidr(s, '62.60.226.0/24')
      ?.attributes.filter((a) => a.type === 'Source')
      .map((a) => a.value)
      .sort(),
    ['Spamhaus DROP SBL671779', 'Spamhaus DROP SBL697779'],
  )
  const lines = DROP.trim().split('\n')
  text = `${[...lines.slice(0, 5), lines[6], lines[5], ...lines.slice(7)].join('\n')}\n`
  t.match(summaryOf(await s.run({ only: 'spamhaus_drop' })), { updated: 0, unchanged: 7 })
})

t.test('12. by default an indicator that left its feed is deactivated, its tags and attributes intact', async (t) => {
  const s = await setup(t)
  let rows = TEN
  s.feeds.route('GET', '/drop_v4.json', () => ({ body: drop(rows) }))
  await s.run({ only: 'spamhaus_drop' })
  rows = TEN.slice(1)
  const result = await s.run({ only: 'spamhaus_drop' })
  t.match(summaryOf(result), { removed: 1, status: 'ok' })
  const gone = cidr(s, '10.0.0.0/16')
  t.match(gone, { active: false, tags: ['spamhaus-drop', 'rir:arin'] }, 'deactivated, not deleted, nothing wiped')
  t.equal(gone?.attributes.length, 2)
  t.same(s.sandbox.app.sandbox.batches.at(-1)?.settings['attributeWriteType'], 'Static')
  rows = TEN.slice(2)
  await s.run({ only: 'spamhaus_drop', env: { FEED_REMOVAL: 'delete' } })
  t.equal(cidr(s, '10.1.0.0/16'), undefined, 'FEED_REMOVAL=delete deletes')
})

t.test('a batch that completes with errors is not committed; the next run lands it, nothing doubled', async (t) => {
  let refuse = true
  const s = await setup(t, { refuse: (summary) => refuse && summary === '10.3.0.0/16' })
  s.feeds.route('GET', '/drop_v4.json', () => ({ body: drop(TEN), headers: { etag: '"e"' } }))
  const first = await s.run({ only: 'spamhaus_drop' })
  t.equal(first.exitCode, 3, 'partly: nine landed in ThreatConnect, but the batch is not committed')
  t.match(summaryOf(first), {
    failed: 10,
    status: 'partial',
    notes: [/did not land: 1 of 10 refused by ThreatConnect/],
  })
  t.match(s.lines.join('\n'), /0x1005: Invalid Indicator Error/)
  refuse = false
  const second = await s.run({ only: 'spamhaus_drop' })
  t.equal(s.feeds.requests[1]?.headers['if-none-match'], undefined, 'the run that did not land kept no validators')
  t.match(summaryOf(second), { added: 10, failed: 0, status: 'ok' })
  t.equal(indicators(s, 'CIDR').length, 10, 'each indicator once')
})

t.test('--dry-run downloads, parses and diffs, and writes nothing to ThreatConnect or the state', async (t) => {
  const s = await setup(t)
  s.feeds.route('GET', '/drop_v4.json', { body: DROP })
  const result = await s.run({ only: 'spamhaus_drop', dryRun: true })
  t.equal(result.exitCode, 0)
  t.match(summaryOf(result), { added: 7, batches: [] })
  t.match(s.lines, [
    /spamhaus_drop \(dry run\): would add 7, update 0, leave 0, deactivate 0, hold back 0; nothing written/,
  ])
  t.equal(s.sandbox.app.sandbox.requests.length, 0, 'ThreatConnect was not called')
  const state = sqliteStateStore(s.stateDir)
  t.equal(await state.meta('spamhaus_drop'), undefined, 'no state written')
  await state.close()
})

t.test(
  'several feeds (Feodo, DROPv6, ASN-DROP too): an array of summaries; a 401 names the key; exit 3 when some failed',
  async (t) => {
    const s = await setup(t)
    s.feeds.route('GET', '/drop_v4.json', { body: DROP })
    s.feeds.route('GET', '/downloads/csv_recent/', (req) =>
      req.headers['auth-key'] === 'urlhaus-key-123'
        ? { status: 401, json: { query_status: 'unknown_auth_key' } }
        : { status: 500 },
    )
    s.feeds.route('GET', '/downloads/ipblocklist.json', { body: FEODO })
    s.feeds.route('GET', '/drop_v6.json', {
      body: '{"cidr":"2a06:e480::/29","sblid":"SBL301771","rir":"ripencc"}\n{"type":"metadata","records":1}\n',
    })
    s.feeds.route('GET', '/asndrop.json', {
      body: '{"asn":400992,"rir":"arin","domain":"zhouyisat.com","cc":"US","asname":"ZHOUYISAT"}\n{"type":"metadata","records":1}\n',
    })
    const result = await s.run({
      env: {
        FEEDS: 'spamhaus_drop,urlhaus,feodo,spamhaus_drop_v6,spamhaus_asndrop',
        FEED_SPAMHAUS_DROP_V6_URL: `${s.feeds.url}/drop_v6.json`,
        FEED_SPAMHAUS_ASNDROP_URL: `${s.feeds.url}/asndrop.json`,
      },
    })
    t.equal(result.exitCode, 3)
    const summaries = JSON.parse(result.summaryLine) as Summary[]
    t.same(
      summaries.map((x) => [x.feed, x.status]),
      [
        ['spamhaus_drop', 'ok'],
        ['urlhaus', 'failed'],
        ['feodo', 'ok'],
        ['spamhaus_drop_v6', 'ok'],
        ['spamhaus_asndrop', 'ok'],
      ],
    )
    t.match(summaries[1]?.notes, [/abuse.ch URLhaus refused the download: .*401.*; check URLHAUS_API_KEY/])
    t.notMatch(result.summaryLine + s.lines.join('\n'), /urlhaus-key-123/, 'the key is in no output')
    t.equal(indicators(s, 'Address').length, 5, "Feodo's C2s landed")
    t.ok(cidr(s, '2a06:e480::/29'), 'DROPv6 landed beside DROP')
    t.equal(indicators(s, 'ASN')[0]?.values['AS Number'], 'ASN400992', 'ASN-DROP landed in the platform spelling')
  },
)

t.test(
  'the embedded default: FEEDS=file ingests the dated sample; an unknown feed or a missing owner is a clear failure',
  async (t) => {
    const s = await setup(t)
    const result = await s.run({ env: {} })
    t.equal(result.exitCode, 0)
    t.match(summaryOf(result), { feed: 'file', fetched: 6, added: 6 })
    const unknown = await s.run({ only: 'nosuchfeed' })
    t.equal(unknown.exitCode, 1)
    t.match(unknown.summaryLine, /unknown feed 'nosuchfeed'/)
    const noOwner = await s.run({ env: { TC_OWNER: '' } })
    t.equal(noOwner.exitCode, 1)
    t.match(noOwner.summaryLine, /TC_OWNER/)
  },
)

t.test("the feed's minimum interval: a second run inside it does not download", async (t) => {
  const s = await setup(t)
  s.feeds.route('GET', '/drop_v4.json', { body: DROP })
  await s.run({ only: 'spamhaus_drop' })
  const soon = await s.run({ only: 'spamhaus_drop', ignoreMinInterval: false })
  t.equal(soon.exitCode, 0)
  t.match(summaryOf(soon), { fetched: 0, notes: [/at most one fetch every 60 min/] })
  t.equal(s.feeds.requests.length, 1)
})
