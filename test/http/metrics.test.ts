import t from 'tap'
import {
  Metrics,
  PLATFORM_REQUESTS_TOTAL,
  RUN_DURATION_SECONDS,
  SOURCE_CACHE_HITS_TOTAL,
  SOURCE_FAILURES_TOTAL,
  SOURCE_REQUESTS_TOTAL,
  SOURCE_RETRIES_TOTAL,
  SOURCE_THROTTLED_WAITS_TOTAL,
  escapeLabelValue,
} from '../../src/metrics.js'

t.test('the counters and histograms are declared with HELP and TYPE lines even before use', async (t) => {
  const text = await new Metrics().render()
  for (const name of [
    SOURCE_REQUESTS_TOTAL,
    SOURCE_FAILURES_TOTAL,
    SOURCE_RETRIES_TOTAL,
    SOURCE_THROTTLED_WAITS_TOTAL,
    SOURCE_CACHE_HITS_TOTAL,
    PLATFORM_REQUESTS_TOTAL,
  ]) {
    t.match(text, new RegExp(`^# HELP ${name} \\S.*$`, 'm'), `${name} has HELP`)
    t.match(text, new RegExp(`^# TYPE ${name} counter$`, 'm'), `${name} has TYPE`)
  }
  t.match(text, new RegExp(`^# TYPE ${RUN_DURATION_SECONDS} histogram$`, 'm'))
  t.ok(text.endsWith('\n'), 'exposition text ends with a newline')
})

t.test('inc adds up per label set, whatever the key order', async (t) => {
  const m = new Metrics()
  m.inc(SOURCE_REQUESTS_TOTAL, { source: 'vt' })
  m.inc(SOURCE_REQUESTS_TOTAL, { source: 'vt' }, 2)
  m.inc(SOURCE_REQUESTS_TOTAL, { source: 'otx' })
  m.inc(SOURCE_FAILURES_TOTAL, { source: 'vt', kind: 'timeout' })
  m.inc(SOURCE_FAILURES_TOTAL, { kind: 'timeout', source: 'vt' })
  t.equal(await m.get(SOURCE_REQUESTS_TOTAL, { source: 'vt' }), 3)
  t.equal(await m.get(SOURCE_REQUESTS_TOTAL, { source: 'otx' }), 1)
  t.equal(await m.get(SOURCE_REQUESTS_TOTAL, { source: 'never' }), 0)
  const text = await m.render()
  t.match(text, /^enrich_source_requests_total\{source="vt"\} 3$/m)
  t.match(text, /^enrich_source_requests_total\{source="otx"\} 1$/m)
  t.match(text, /^enrich_source_failures_total\{source="vt",kind="timeout"\} 2$/m)
})

t.test('histograms count observations in their buckets', async (t) => {
  const m = new Metrics()
  m.observe(RUN_DURATION_SECONDS, { outcome: 'ok' }, 0.02)
  m.observe(RUN_DURATION_SECONDS, { outcome: 'ok' }, 3)
  const text = await m.render()
  t.match(text, /^enrich_run_duration_seconds_bucket\{le="0.025",outcome="ok"\} 1$/m)
  t.match(text, /^enrich_run_duration_seconds_count\{outcome="ok"\} 2$/m)
})

t.test('label values are escaped', async (t) => {
  t.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd')
  const m = new Metrics()
  m.inc(SOURCE_REQUESTS_TOTAL, { source: 'we"ird\\name\nx' })
  t.match(await m.render(), 'enrich_source_requests_total{source="we\\"ird\\\\name\\nx"} 1')
})

t.test('each Metrics object counts on its own', async (t) => {
  const a = new Metrics()
  const b = new Metrics()
  a.inc(SOURCE_RETRIES_TOTAL, { source: 's' })
  t.equal(await b.get(SOURCE_RETRIES_TOTAL, { source: 's' }), 0)
  t.equal(await a.get(SOURCE_RETRIES_TOTAL, { source: 's' }), 1)
})

t.test('misuse fails loudly', async (t) => {
  const m = new Metrics()
  t.throws(() => m.inc('nope_total', {}), /unknown metric/)
  t.throws(() => m.inc(SOURCE_REQUESTS_TOTAL, {}), /needs label 'source'/)
  t.throws(() => m.inc(SOURCE_REQUESTS_TOTAL, { source: 's', extra: 'x' }), /no label 'extra'/)
  t.throws(() => m.inc(SOURCE_REQUESTS_TOTAL, { source: 's' }, -1), /only go up/)
  t.throws(() => m.inc(RUN_DURATION_SECONDS, { outcome: 'ok' }), /not a counter/)
  t.throws(() => m.define({ name: 'bad-name', help: 'x', labels: [] }), /invalid metric name/)
  t.throws(() => m.define({ name: SOURCE_REQUESTS_TOTAL, help: 'x', labels: ['other'] }), /already defined/)
})

t.test('a running service also reports process and event-loop metrics', async (t) => {
  const text = await new Metrics(undefined, { processMetrics: true }).render()
  t.match(text, /^process_resident_memory_bytes \d+/m)
  t.match(text, /^nodejs_eventloop_lag_seconds /m)
  t.equal(await new Metrics([]).render(), '\n', 'no metric, nothing reported')
})
