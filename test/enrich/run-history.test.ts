/**
 * The status page's hour of runs: minutes kept in order with empty ones shown, the hour's counts by verdict, latency
 * percentiles, old minutes forgotten, and each source's recent lookups (a cached answer or a skip carries no latency).
 */
import t from 'tap'
import { percentile, RunHistory } from '../../src/enrich/run-history.js'
import type { SourceOutcome } from '../../src/enrich/types.js'

const MINUTE = 60_000
const START = Date.parse('2026-12-04T12:00:00Z')

const ok = (ms: number, cached = false): SourceOutcome =>
  ({ source: 'vt', status: 'ok', finding: {}, elapsedMs: ms, cached, ageMs: 0 }) as unknown as SourceOutcome
const failed = (ms: number): SourceOutcome => ({
  source: 'vt',
  status: 'failed',
  kind: 'timeout',
  reason: 'x',
  elapsedMs: ms,
})

t.test('nearest-rank percentiles', async (t) => {
  t.equal(percentile([], 0.5), undefined)
  t.equal(percentile([7], 0.95), 7)
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1)
  t.equal(percentile(hundred, 0.5), 50)
  t.equal(percentile(hundred, 0.95), 95)
})

t.test('minutes, the hour, and forgetting', async (t) => {
  let now = START + 5_000
  const h = new RunHistory(() => now)
  h.recordRun(['malicious', 'benign'], false, 10)
  h.recordRun(['benign'], true, 30)
  now += 2 * MINUTE
  h.recordRun(['unknown'], false, 20)
  const minutes = h.minutes()
  t.equal(minutes.length, 60)
  t.equal(minutes[59]?.at, '2026-12-04T12:02:00.000Z', 'the current minute last')
  t.match(minutes[57], { at: '2026-12-04T12:00:00.000Z', runs: 2, failedRuns: 1, indicators: 3, p50Ms: 10, p95Ms: 30 })
  t.same(minutes[57]?.byVerdict, { malicious: 1, benign: 2 })
  t.match(minutes[58], { runs: 0, p50Ms: null }, 'an empty minute is shown empty')
  t.match(h.hour(), { runs: 3, failedRuns: 1, indicators: 4, p50Ms: 20, p95Ms: 30 })
  t.same(h.hour().byVerdict, { malicious: 1, benign: 2, unknown: 1 })
  now += 59 * MINUTE
  t.match(h.hour(), { runs: 1 }, 'the 12:00 minute left the hour')
  now += 5 * MINUTE
  h.recordRun(['benign'], false, 5)
  t.match(h.hour(), { runs: 1, p50Ms: 5 }, 'only the last hour counts')
})

t.test("a source's recent lookups: counted by outcome; latency only of calls made", async (t) => {
  let now = START
  const h = new RunHistory(() => now)
  h.recordSource(ok(100))
  h.recordSource(ok(1, true))
  h.recordSource(failed(300))
  h.recordSource({ source: 'vt', status: 'skipped', kind: 'rate_limited', reason: 'x', elapsedMs: 0 })
  t.same(h.source('vt'), { lookups: 4, ok: 2, failed: 1, skipped: 1, p50Ms: 100, p95Ms: 300 })
  t.same(h.source('none'), { lookups: 0, ok: 0, failed: 0, skipped: 0, p50Ms: null, p95Ms: null })
  for (let i = 0; i < 300; i++) h.recordSource(ok(10))
  t.equal(h.source('vt').lookups, 256, 'at most the last 256 are kept')
  t.equal(h.source('vt').failed, 0, 'the oldest went first')
  now += 61 * MINUTE
  t.equal(h.source('vt').lookups, 0, 'an hour later none is recent')
})
