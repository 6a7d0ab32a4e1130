import t from 'tap'
import { assess, threatRatingOf } from '../../src/enrich/verdict.js'
import { failed, finding, ok, skipped } from '../helpers/findings.js'

t.test('no opinion at all is unknown with zero score, rating and confidence — never benign', async (t) => {
  t.same(assess([]), { verdict: 'unknown', score: 0, threatRating: 0, confidence: 0, tags: [] })
  const a = assess([ok('asn', finding('unknown', { tags: ['cloud'] })), failed('vt'), skipped('x')])
  t.equal(a.verdict, 'unknown')
  t.equal(a.confidence, 0)
  t.same(a.tags, ['cloud'], 'tags of context findings are still kept')
})

t.test('failed and skipped sources never vote', async (t) => {
  const a = assess([ok('watchlist', finding('benign', { score: 0, confidence: 80 })), failed('vt'), skipped('asn')])
  t.equal(a.verdict, 'benign')
  t.equal(a.confidence, 80)
})

t.test('the worst opinion wins', async (t) => {
  const a = assess([
    ok('a', finding('benign', { score: 0, confidence: 90 })),
    ok('b', finding('suspicious', { score: 40, confidence: 60 })),
    ok('c', finding('malicious', { score: 95, confidence: 70 })),
  ])
  t.equal(a.verdict, 'malicious')
  t.equal(a.score, 95)
  t.equal(a.threatRating, 5)
  // base 70 (only c agrees), one opposed (benign a): 70 - 20 = 50; suspicious b is not opposed
  t.equal(a.confidence, 50)
})

t.test('agreement raises confidence, capped at 100', async (t) => {
  const two = assess([
    ok('a', finding('malicious', { score: 80, confidence: 70 })),
    ok('b', finding('malicious', { score: 60, confidence: 50 })),
  ])
  t.equal(two.confidence, 80)
  t.equal(two.score, 80)
  const many = assess(['a', 'b', 'c', 'd', 'e'].map((s) => ok(s, finding('malicious', { confidence: 95 }))))
  t.equal(many.confidence, 100)
})

t.test('missing scores and confidences take the documented defaults', async (t) => {
  const a = assess([ok('a', finding('malicious'))])
  t.equal(a.score, 75)
  t.equal(a.threatRating, 4)
  t.equal(a.confidence, 50)
  t.equal(assess([ok('a', finding('suspicious'))]).score, 40)
})

t.test('confidence never drops below the floor', async (t) => {
  const a = assess([
    ok('a', finding('benign', { confidence: 20 })),
    ok('b', finding('malicious', { confidence: 10 })),
    ok('c', finding('malicious', { confidence: 10 })),
  ])
  t.equal(a.verdict, 'malicious')
  t.equal(a.confidence, 10)
})

t.test('threat rating mapping', async (t) => {
  const rows: [Parameters<typeof threatRatingOf>[0], number, number][] = [
    ['malicious', 100, 5],
    ['malicious', 90, 5],
    ['malicious', 89, 4],
    ['malicious', 75, 4],
    ['malicious', 74, 3],
    ['malicious', 0, 3],
    ['suspicious', 50, 2],
    ['suspicious', 49, 1],
    ['suspicious', 0, 1],
    ['benign', 0, 0],
    ['unknown', 0, 0],
  ]
  for (const [v, s, r] of rows) t.equal(threatRatingOf(v, s), r, `${v} ${s} -> ${r}`)
})

t.test('tags are merged without case duplicates, first spelling kept', async (t) => {
  const a = assess([
    ok('a', finding('unknown', { tags: ['Botnet', 'tor'] })),
    ok('b', finding('malicious', { tags: ['botnet', 'C2'] })),
  ])
  t.same(a.tags, ['Botnet', 'tor', 'C2'])
})
