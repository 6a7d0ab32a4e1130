import t from 'tap'
import {
  Metrics,
  SOURCE_CACHE_HITS_TOTAL,
  SOURCE_FAILURES_TOTAL,
  SOURCE_REQUESTS_TOTAL,
  SOURCE_RETRIES_TOTAL,
  SOURCE_THROTTLED_WAITS_TOTAL,
  escapeLabelValue,
} from '../../src/metrics.js'

t.test('the source counters are declared with HELP and TYPE lines even before use', async (t) => {
  const text = new Metrics().render()
  for (const name of [
    SOURCE_REQUESTS_TOTAL,
    SOURCE_FAILURES_TOTAL,
    SOURCE_RETRIES_TOTAL,
    SOURCE_THROTTLED_WAITS_TOTAL,
    SOURCE_CACHE_HITS_TOTAL,
  ]) {
    t.match(text, new RegExp(`^# HELP ${name} \\S.*$`, 'm'), `${name} has HELP`)
    t.match(text, new RegExp(`^# TYPE ${name} counter$`, 'm'), `${name} has TYPE`)
  }
  t.ok(text.endsWith('\n'), 'exposition text ends with a newline')
})

t.test('inc adds up per label set, whatever the key order', async (t) => {
  const m = new Metrics()
  m.inc(SOURCE_REQUESTS_TOTAL, { source: 'vt' })
  m.inc(SOURCE_REQUESTS_TOTAL, { source: 'vt' }, 2)
  m.inc(SOURCE_REQUESTS_TOTAL, { source: 'otx' })
  m.inc(SOURCE_FAILURES_TOTAL, { source: 'vt', kind: 'timeout' })
  m.inc(SOURCE_FAILURES_TOTAL, { kind: 'timeout', source: 'vt' })
  t.equal(m.get(SOURCE_REQUESTS_TOTAL, { source: 'vt' }), 3)
  t.equal(m.get(SOURCE_REQUESTS_TOTAL, { source: 'otx' }), 1)
  t.equal(m.get(SOURCE_REQUESTS_TOTAL, { source: 'never' }), 0)
  const text = m.render()
  t.match(text, /^enrich_source_requests_total\{source="vt"\} 3$/m)
  t.match(text, /^enrich_source_requests_total\{source="otx"\} 1$/m)
  t.match(text, /^enrich_source_failures_total\{source="vt",kind="timeout"\} 2$/m)
})

t.test('label values are escaped', async (t) => {
  t.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd')
  const m = new Metrics()
  m.inc(SOURCE_REQUESTS_TOTAL, { source: 'we"ird\\name\nx' })
  t.match(m.render(), 'enrich_source_requests_total{source="we\\"ird\\\\name\\nx"} 1')
})

t.test('each Metrics object counts on its own', async (t) => {
  const a = new Metrics()
  const b = new Metrics()
  a.inc(SOURCE_RETRIES_TOTAL, { source: 's' })
  t.equal(b.get(SOURCE_RETRIES_TOTAL, { source: 's' }), 0)
})

t.test('misuse fails loudly', async (t) => {
  const m = new Metrics()
  t.throws(() => m.inc('nope_total', {}), /unknown metric/)
  t.throws(() => m.inc(SOURCE_REQUESTS_TOTAL, {}), /needs label 'source'/)
  t.throws(() => m.inc(SOURCE_REQUESTS_TOTAL, { source: 's', extra: 'x' }), /no label 'extra'/)
  t.throws(() => m.inc(SOURCE_REQUESTS_TOTAL, { source: 's' }, -1), /only go up/)
  t.throws(() => m.define({ name: 'bad-name', help: 'x', labels: [] }), /invalid metric name/)
  t.throws(() => m.define({ name: SOURCE_REQUESTS_TOTAL, help: 'x', labels: ['other'] }), /already defined/)
})

t.test('other counters can be defined, with escaped HELP', async (t) => {
  const m = new Metrics([])
  t.equal(m.render(), '')
  m.define({ name: 'enrich_runs_total', help: 'Runs\nby "outcome" \\ path', labels: ['outcome'] })
  m.inc('enrich_runs_total', { outcome: 'ok' }, 4)
  t.equal(
    m.render(),
    '# HELP enrich_runs_total Runs\\nby "outcome" \\\\ path\n# TYPE enrich_runs_total counter\nenrich_runs_total{outcome="ok"} 4\n',
  )
})
