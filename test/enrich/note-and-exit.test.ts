import t from 'tap'
import { exitStatus } from '../../src/enrich/exit-status.js'
import { findingsDigest, renderNote } from '../../src/enrich/note.js'
import type { IndicatorResult } from '../../src/enrich/types.js'
import { assess } from '../../src/enrich/verdict.js'
import type { Indicator } from '../../src/indicators/types.js'
import { failed, finding, ok, skipped } from '../helpers/findings.js'

const ip: Indicator = { input: ' 8.8.8.8 ', value: '8.8.8.8', type: 'Address' }
const meta = { appName: 'Indicator Enrichment', appVersion: '1.2.3', at: new Date('2026-11-23T10:00:00Z') }

const result = (outcomes: IndicatorResult['outcomes'], indicator = ip): IndicatorResult => {
  const assessment = assess(outcomes)
  const digest = findingsDigest(indicator, assessment, outcomes)
  return { indicator, outcomes, assessment, digest, note: renderNote(indicator, assessment, outcomes, digest, meta) }
}

t.test('the note names the indicator, verdict, each source, the time and the app version', async (t) => {
  const r = result([
    ok('watchlist', finding('benign', { score: 0, confidence: 80, summary: 'listed as benign: Google | DNS' })),
    ok('asn', finding('unknown', { summary: 'AS15169 Google LLC (US)' }), { cached: true, ageMs: 42_000 }),
    failed('virustotal'),
    skipped('urlhaus', 'does not support Address indicators (supports URL, Host, File)'),
  ])
  const note = r.note
  t.match(note, /`8\.8\.8\.8` \(Address\)/)
  t.match(note, /\*\*Verdict: benign\*\* · score 0\/100 · threat rating 0\/5 · confidence 80\/100/)
  t.match(
    note,
    /\| watchlist \| ok \| \*\*benign\*\* \(0\): listed as benign: Google \\\| DNS \|/,
    'pipes in summaries are escaped',
  )
  t.match(note, /\| asn \| ok \| AS15169 Google LLC \(US\) _\(cached 42 s ago\)_ \|/)
  t.match(note, /\| virustotal \| failed \| timeout - no answer within 100 ms \|/)
  t.match(note, /\| urlhaus \| skipped \| does not support Address/)
  t.match(note, /_Indicator Enrichment 1\.2\.3 · 2026-11-23T10:00:00\.000Z_ · digest: [0-9a-f]{12}$/)
})

t.test('the digest depends on the findings, not on the time or the cache', async (t) => {
  const a = result([ok('watchlist', finding('malicious', { score: 90 }))])
  const b = result([ok('watchlist', finding('malicious', { score: 90 }), { cached: true, ageMs: 5000, elapsedMs: 0 })])
  const c = result([ok('watchlist', finding('malicious', { score: 91 }))])
  t.equal(a.digest, b.digest)
  t.not(a.digest, c.digest)
})

t.test('exit status: success, partial failure, total failure', async (t) => {
  const good = exitStatus([result([ok('a', finding('malicious', { score: 95 })), failed('b')])])
  t.equal(good.exitCode, 0, 'one source answering is a success')
  t.equal(good.exitMessage, '8.8.8.8 (Address): malicious, score 95; sources 1 ok, 1 failed, 0 skipped (failed: b)')

  const bad = exitStatus([result([failed('a'), failed('b'), skipped('c')])])
  t.equal(bad.exitCode, 1, 'every source that ran failed')
  t.match(bad.exitMessage, /^no source answered; /)

  const allSkipped = exitStatus([result([skipped('asn')])])
  t.equal(allSkipped.exitCode, 0, 'nothing failed: the verdict is honestly unknown')

  const writeback = exitStatus([result([ok('a', finding('benign'))])], 'write-back failed: HTTP 401')
  t.equal(writeback.exitCode, 1)
  t.match(writeback.exitMessage, /^write-back failed: HTTP 401; /)
})

t.test('exit message for arrays counts verdicts and stays within 255 characters', async (t) => {
  const long: Indicator = { input: 'x', value: `http://example.com/${'a'.repeat(400)}`, type: 'URL' }
  const s = exitStatus([result([ok('a', finding('malicious'))]), result([ok('a', finding('unknown'))], long)])
  t.match(s.exitMessage, /^2 indicators: 1 malicious, 0 suspicious, 0 benign, 1 unknown; sources 2 ok/)
  const one = exitStatus([result([failed('a')], long)])
  t.ok(one.exitMessage.length <= 255)
  t.match(one.exitMessage, /^no source answered; /)
})
