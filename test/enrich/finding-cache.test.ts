import t from 'tap'
import { FindingCache } from '../../src/enrich/finding-cache.js'
import { finding } from '../helpers/findings.js'

t.test('entries expire after their TTL and report their age', async (t) => {
  let now = 1000
  const cache = new FindingCache(10, () => now)
  cache.set('vt', 'Address', '1.2.3.4', finding('malicious'))
  now += 400
  t.equal(cache.get('vt', 'Address', '1.2.3.4', 500)?.ageMs, 400)
  t.equal(cache.get('vt', 'Host', '1.2.3.4', 500), undefined, 'type is part of the key')
  now += 100
  t.equal(cache.get('vt', 'Address', '1.2.3.4', 500), undefined, 'expired at the TTL')
})

t.test(
  "a finding fetched with one key is never served to another key, and another key's request empties nothing",
  async (t) => {
    const cache = new FindingCache(10)
    cache.set('vt', 'Address', '1.2.3.4', finding('malicious'), 0, 'print-1')
    t.equal(cache.get('vt', 'Address', '1.2.3.4', 1000, 'print-2'), undefined, 'another key: a miss')
    cache.set('vt', 'Address', '1.2.3.4', finding('benign'), 0, 'print-2')
    t.equal(
      cache.get('vt', 'Address', '1.2.3.4', 1000, 'print-1')?.finding.verdict,
      'malicious',
      "the first key's finding is still there",
    )
    t.equal(cache.get('vt', 'Address', '1.2.3.4', 1000, 'print-2')?.finding.verdict, 'benign')
    t.equal(cache.size('vt'), 2)
  },
)

t.test('bounded: the oldest entries go first', async (t) => {
  const cache = new FindingCache(2)
  cache.set('vt', 'Address', 'a', finding('unknown'))
  cache.set('vt', 'Address', 'b', finding('unknown'))
  cache.set('vt', 'Address', 'c', finding('unknown'))
  t.equal(cache.size('vt'), 2)
  t.equal(cache.get('vt', 'Address', 'a', 1e9), undefined)
  t.ok(cache.get('vt', 'Address', 'c', 1e9))
})
