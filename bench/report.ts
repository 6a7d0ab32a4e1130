/** Results -> a printed table and bench/results.md. Pure formatting. */
import type { LoadResult } from './load.js'
import type {
  BatchResult,
  CallCostResult,
  EmbeddedResult,
  FeedResult,
  HostileResult,
  OutboxResult,
  ReplicasResult,
  StartupResult,
  VendorResult,
} from './scenarios.js'

/** The RSS the service stays under whatever the vendors send (docs/user-guide.md, "Limits"). */
export const RSS_CEILING_MB = 512

export interface BenchResults {
  readonly startedAt: Date
  readonly environment: {
    readonly node: string
    readonly cpus: number
    readonly cpuModel: string
    readonly loadBefore: readonly number[]
    readonly loadAfter: readonly number[]
  }
  readonly settings: {
    readonly durationS: number
    readonly connections: number
    readonly fakeDelayMs: number
    readonly batch: number
    readonly batchPerSecond: number
  }
  readonly echo?: LoadResult
  /** req/s of each echo measurement; the ceiling (echo) is the best of them. */
  readonly echoRuns?: readonly number[]
  readonly embedded?: EmbeddedResult
  readonly vendor?: VendorResult
  readonly callCost?: CallCostResult
  readonly batch?: BatchResult
  readonly startup?: StartupResult
  readonly hostile?: HostileResult
  readonly replicas?: ReplicasResult
  readonly feed?: FeedResult
  readonly outbox?: OutboxResult
}

interface Row {
  readonly scenario: string
  readonly rps: string
  readonly p50: string
  readonly p99: string
  readonly rss: string
  readonly measure: string
  readonly target: string
  readonly met: string
}

const n = (v: number, digits = 0): string => (Number.isFinite(v) ? v.toFixed(digits) : '-')
const ms = (v: number): string => n(v, 2)
const pct = (v: number): string => `${n(v * 100, 1)}%`
const yes = (ok: boolean): string => (ok ? 'yes' : '**NO**')

const loadRow = (scenario: string, r: LoadResult, extra: Pick<Row, 'measure' | 'target' | 'met'>): Row => ({
  scenario: `${scenario}${r.non2xx + r.errors > 0 ? ` (${r.non2xx} non-2xx, ${r.errors} errors)` : ''}`,
  rps: n(r.rps),
  p50: ms(r.p50Ms),
  p99: ms(r.p99Ms),
  rss: n(r.peakRssMb),
  ...extra,
})

export const rowsOf = (r: BenchResults): Row[] => {
  const rows: Row[] = []
  const none = { measure: '', target: '', met: '' }
  if (r.echo) {
    const runs =
      r.echoRuns !== undefined && r.echoRuns.length > 1 ? ` (best of ${r.echoRuns.map((x) => n(x)).join(', ')})` : ''
    rows.push(
      loadRow(`1. bare Fastify echo (ceiling)${runs}`, r.echo, { measure: '100% (ceiling)', target: '', met: '' }),
    )
  }
  if (r.embedded) {
    const ceiling = r.echo?.rps ?? Number.NaN
    rows.push(
      loadRow('2a. /run embedded, cold (first 500 after start)', r.embedded.cold, {
        measure: `${pct(r.embedded.cold.rps / ceiling)} of (1) req/s`,
        target: '',
        met: '',
      }),
    )
    // The goals: at least 0.33 of the echo with the full reply, 0.40 naming up to ten outputs, in the same run.
    const full = r.embedded.warm.rps / ceiling
    rows.push(
      loadRow('2b. /run embedded, warm, the full reply', r.embedded.warm, {
        measure: `${pct(full)} of (1) req/s`,
        target: '>= 33%',
        met: yes(full >= 0.33),
      }),
    )
    const selected = r.embedded.selected.rps / ceiling
    rows.push(
      loadRow('2c. /run embedded, warm, naming 10 outputs', r.embedded.selected, {
        measure: `${pct(selected)} of (1) req/s`,
        target: '>= 40%',
        met: yes(selected >= 0.4),
      }),
    )
  }
  for (const [i, v] of (r.vendor ?? []).entries()) {
    const c = `${v.connections} connection${v.connections === 1 ? '' : 's'}`
    const id = (k: number): string => `3${String.fromCharCode(97 + 3 * i + k)}`
    const cpu = v.cpuMicrosPerCall
    rows.push(loadRow(`${id(0)}. the fake vendor alone (${r.settings.fakeDelayMs} ms), ${c}`, v.fakeDirect, none))
    const gotCost = v.gotForwarder.p50Ms - v.forwarder.p50Ms
    rows.push(
      loadRow(`${id(1)}. bare Fastify forwarder through the same got instance, ${c}`, v.gotForwarder, {
        measure: `Fastify + got over a bare node:http forwarder (p50 ${ms(v.forwarder.p50Ms)}): ${ms(gotCost)} ms p50; CPU ${n(cpu.got)} µs/call vs ${n(cpu.node)}`,
        target: '',
        met: '',
      }),
    )
    const own = v.run.p50Ms - v.gotForwarder.p50Ms
    rows.push(
      loadRow(`${id(2)}. /run internetdb via the fake, ${c} (${v.fakeServed} calls reached it)`, v.run, {
        measure: `the service's own cost p50 ${ms(own)} ms over (${id(1)}); CPU ${n(cpu.run)} µs/call`,
        // The goal: at most 0.5 ms over a bare Fastify forwarder making the same call through the same got instance.
        target: '<= 0.5 ms over the got forwarder',
        met: yes(own <= 0.5),
      }),
    )
  }
  if (r.callCost) {
    const c = r.callCost
    rows.push({
      scenario: `3g. CPU per vendor call, ${c.calls} sequential keep-alive calls (best of 4 rounds)`,
      rps: '-',
      p50: '-',
      p99: '-',
      rss: '-',
      measure: `node:http ${n(c.nodeMicros)} µs; got (the service's transport) ${n(c.gotMicros)} µs: got costs ${n(c.gotMicros - c.nodeMicros)} µs a call`,
      target: '',
      met: '',
    })
  }
  if (r.batch) {
    const b = r.batch
    const ratio = b.wallS / b.floorS
    rows.push({
      scenario: `4. ${b.indicators} indicators in one /run, fake limited to ${r.settings.batchPerSecond}/s (HTTP ${b.status}, ${b.answered} answered)`,
      rps: n(b.served / b.wallS, 1),
      p50: '-',
      p99: '-',
      rss: n(b.peakRssMb),
      measure: `${n(b.wallS, 2)} s = ${pct(ratio)} of the ${n(b.floorS)} s floor; ${b.refused} refused`,
      target: '<= 105%, 0 refused',
      met: yes(ratio <= 1.05 && b.refused === 0 && b.answered === b.indicators),
    })
  }
  if (r.startup) {
    const s = r.startup
    rows.push({
      scenario: `5. start-up to /health 200 (median of ${s.runsMs.length}: ${s.runsMs.map((x) => n(x)).join(', ')} ms)`,
      rps: '-',
      p50: '-',
      p99: '-',
      rss: n(s.rssMb),
      measure: `${n(s.medianMs)} ms`,
      target: '<= 1000 ms',
      met: yes(s.medianMs <= 1000),
    })
  }
  if (r.hostile) {
    const h = r.hostile
    rows.push(
      loadRow('6a. /run under load, the vendor answering 256 KB and 5,000-deep bodies', h.load, {
        measure: `peak RSS ${n(h.load.peakRssMb)} MB`,
        target: `<= ${RSS_CEILING_MB} MB, 0 non-2xx`,
        met: yes(h.load.peakRssMb <= RSS_CEILING_MB && h.load.non2xx + h.load.errors === 0),
      }),
    )
    for (const [i, b] of h.batches.entries()) {
      rows.push({
        scenario: `6${'bcd'[i] ?? '?'}. ${b.indicators} indicators, ${b.label} (HTTP ${b.status})`,
        rps: '-',
        p50: '-',
        p99: '-',
        rss: n(b.peakRssMb),
        measure: `${n(b.wallS, 2)} s`,
        target: `<= ${RSS_CEILING_MB} MB`,
        met: yes(b.peakRssMb <= RSS_CEILING_MB),
      })
    }
  }
  if (r.replicas) {
    const x = r.replicas
    const ratio = x.wallS / x.floorS
    rows.push({
      scenario: `7. ${x.indicators} indicators over ${x.replicas} replicas sharing one Redis, fake limited to ${r.settings.batchPerSecond}/s (HTTP ${x.statuses.join('/')}, ${x.answered} answered)`,
      rps: n(x.served / x.wallS, 1),
      p50: '-',
      p99: '-',
      rss: '-',
      measure: `${n(x.wallS, 2)} s = ${pct(ratio)} of the ${n(x.floorS)} s floor; ${x.refused} refused`,
      target: '<= 105%, 0 refused',
      met: yes(ratio <= 1.05 && x.refused === 0 && x.answered === x.indicators),
    })
  }
  if (r.feed) {
    const f = r.feed
    const line = (label: string, m: FeedResult['first'], target: string, met: boolean): Row => ({
      scenario: `8${label}. feed job, ${f.rows.toLocaleString('en')} rows: ${label === 'a' ? 'first run' : 'unchanged re-run'} (exit ${m.exitCode}; fetched ${m.summary.fetched ?? '?'}, added ${m.summary.added ?? '?'}, unchanged ${m.summary.unchanged ?? '?'}, ${m.summary.batches?.length ?? '?'} batches)`,
      rps: '-',
      p50: '-',
      p99: '-',
      rss: n(m.peakRssMb),
      measure: `${n(m.wallS, 2)} s`,
      target,
      met: yes(met),
    })
    rows.push(
      line('a', f.first, `<= ${FEED_RSS_GOAL_MB} MB`, f.first.exitCode === 0 && f.first.peakRssMb <= FEED_RSS_GOAL_MB),
    )
    rows.push(
      line(
        'b',
        f.rerun,
        `<= 5 s, <= ${FEED_RERUN_RSS_GOAL_MB} MB, nothing uploaded`,
        f.rerun.exitCode === 0 &&
          f.rerun.wallS <= 5 &&
          f.rerun.peakRssMb <= FEED_RERUN_RSS_GOAL_MB &&
          (f.rerun.summary.batches?.length ?? 1) === 0,
      ),
    )
  }
  if (r.outbox) {
    for (const size of r.outbox.sizes)
      rows.push({
        scenario: `9. alert outbox (SQLite), ${size.entries.toLocaleString('en')} entries: a process opening it, over one opening an empty outbox (one add p50 ${ms(size.addP50Ms)} ms, due() ${ms(size.dueMs)} ms)`,
        rps: '-',
        p50: '-',
        p99: '-',
        rss: n(r.outbox.emptyRssMb + size.overEmptyMb),
        measure: `+${n(size.overEmptyMb, 1)} MB`,
        target: size.entries === 30_000 ? `<= ${OUTBOX_GOAL_MB} MB over empty` : '-',
        met: size.entries === 30_000 ? yes(size.overEmptyMb <= OUTBOX_GOAL_MB) : '-',
      })
  }
  return rows
}

/** The outbox's goal: memory flat in its entries (30,000 entries under 20 MB over an empty outbox). */
const OUTBOX_GOAL_MB = 20

/** The feed job's goals: a first run of 100,000 rows under 250 MB, an unchanged re-run under 200 MB. */
const FEED_RSS_GOAL_MB = 250
const FEED_RERUN_RSS_GOAL_MB = 200

const HEAD = [
  'Scenario',
  'req/s',
  'p50 ms',
  'p99 ms',
  'peak RSS MB',
  'Against ceiling / floor',
  'Target',
  'Met',
] as const

export const markdownTable = (rows: readonly Row[]): string =>
  [
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map((h, i) => (i === 0 || i >= 5 ? '---' : '--:')).join('|')}|`,
    ...rows.map((r) => `| ${[r.scenario, r.rps, r.p50, r.p99, r.rss, r.measure, r.target, r.met].join(' | ')} |`),
  ].join('\n')

export const markdownReport = (r: BenchResults): string => {
  const e = r.environment
  const s = r.settings
  return `# Benchmark results

Produced by \`npm run bench\` (bench/run.ts) on ${r.startedAt.toISOString()}. Numbers from one run on a shared
machine: compare ratios within this run, not absolute numbers across runs.

- Node ${e.node}, ${e.cpus} CPUs (${e.cpuModel}); load average (1/5/15 min) before ${e.loadBefore.map((x) => x.toFixed(2)).join(' / ')}, after ${e.loadAfter.map((x) => x.toFixed(2)).join(' / ')}.
- autocannon in the bench process; the service (\`node dist/src/server.js\`), the echo server and the fake vendor each in
  their own child process on 127.0.0.1. ${s.connections} connections, ${s.durationS} s per measured scenario (after a 2 s warm-up where noted).
- The service runs with LOG_LEVEL=warn (no per-request log lines) and RUN_RATE_LIMIT=off; everything else default.
- The echo (1) is measured before and after /run (2a-2c) and the better of the two is the ceiling, so one low draw
  of the echo on a busy machine cannot flatter /run's ratio.
- Latency percentiles are computed from every 2xx response time autocannon reports (sub-millisecond), not its
  whole-millisecond histogram. Peak RSS is the highest VmRSS sampled every 100 ms during the scenario.
- "Cold" vs "warm" (2a/2b): the embedded sources (asn, watchlist, classify) keep no cache, so "cold" means the first
  500 requests after start (JIT not yet warm), "warm" the steady state after a warm-up; no cache is involved in either.
  2c is warm /run naming ten outputs (\`outputs\`: the verdict, score, rating, confidence, tags, failed sources, the note
  and three asn facts), as a playbook that asks only for what it maps.
- Scenario 3: every /run asks internetdb (force_refresh, a distinct address per request) and the fake answers after
  ${s.fakeDelayMs} ms. The baseline (3b/3e) is a bare Fastify app making the same call through the same got instance the
  service's client builds (src/http/transport.ts: the same agents, timeouts, cap and headers), so /run minus it is the
  service's own work on a vendor call (the goal: at most 0.5 ms at p50). Beside it, what Fastify and got cost over a bare
  node:http forwarder making the same call, in latency and in CPU per call (from /proc, 10 ms ticks over the run).
  With ${s.connections} connections the fake's fixed delay makes the calls come back in bursts, so part of any difference is
  queueing behind the other answers of the same burst.
- Scenario 4: the fake refuses with 429 any call beyond ${s.batchPerSecond} in any sliding 1 s window; the service runs with
  INTERNETDB_RATE_LIMIT=${s.batchPerSecond}/1s. The floor is ${s.batch} / ${s.batchPerSecond} = ${s.batch / s.batchPerSecond} s (the true minimum is a
  little under it, since the first window starts at once).
- Scenario 6 (a vendor's bad day): the fake answers every other call with a body nested 5,000 levels deep and the
  others with 256 KB; each finding keeps at most 16 KiB of it. 6a drives /run (classify + the vendor, force_refresh)
  under load; 6b-6d post one batch each; 6d is over MAX_VENDOR_LOOKUPS (2,000) and must be refused up front (413).
  The target is the documented RSS ceiling of ${RSS_CEILING_MB} MB.
- Scenario 8 (the feed job): \`node dist/src/feed-main.js --feed spamhaus_drop\` as its own process against one helper serving a
  100,000-row DROP-format feed and a v2 Batch API that completes every job at once; 8a is the first run (every
  indicator uploaded, in jobs of 5,000: FEED_BATCH_MAX_ITEMS), 8b an unchanged re-run that downloads and parses the whole feed
  again (the ETag is dropped from the state to force it) and uploads nothing. Time is the process's whole life.
- Scenario 9 (the alert outbox): \`bench/outbox-measure.ts\` fills an SQLite outbox to 1,000, 10,000 and 30,000 entries
  (nearly all sent, as an outbox is after a while) and, at each size, starts a fresh process that opens it, runs a
  delivery round's due() and the counts, and reports its RSS after a GC; the row is that over the same for an empty
  outbox.
- Scenario 7 (replicas): three service processes with REDIS_URL on one redis-server, REPLICAS=3, the same fake as
  scenario 4 (429 past ${s.batchPerSecond} in any 1 s window); the ${s.batch} indicators are split over the three and posted at once. One quota for
  the fleet: the floor is the same ${s.batch / s.batchPerSecond} s, and the fake should refuse none.

${markdownTable(rowsOf(r))}
`
}

export const plainTable = (rows: readonly Row[]): string => {
  const cells = [
    HEAD as readonly string[],
    ...rows.map((r) => [r.scenario, r.rps, r.p50, r.p99, r.rss, r.measure, r.target, r.met.replace(/\*/g, '')]),
  ]
  const widths = HEAD.map((_, i) => Math.max(...cells.map((c) => (c[i] ?? '').length)))
  return cells
    .map((c) => c.map((v, i) => (i === 0 || i >= 5 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  '))
    .join('\n')
}
