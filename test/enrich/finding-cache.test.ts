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

t.test('a changed API key empties only that source', async (t) => {
  const cache = new FindingCache(10)
  cache.noteApiKey('vt', 'key-1')
  cache.set('vt', 'Address', '1.2.3.4', finding('malicious'))
  cache.set('otx', 'Address', '1.2.3.4', finding('malicious'))
  cache.noteApiKey('vt', 'key-1')
  t.equal(cache.size('vt'), 1, 'same key keeps entries')
  cache.noteApiKey('vt', 'key-2')
  t.equal(cache.size('vt'), 0)
  t.equal(cache.size('otx'), 1)
})

t.test('bounded: the oldest entries go first', async (t) => {
  const cache = new FindingCache(2)
  cache.set('vt', 'Address', 'a', finding('unknown'))
  cache.set('vt', 'Address', 'b', finding('unknown'))
  cache.set('vt', 'Address', 'c', finding('unknown'))
  t.equal(cache.size('vt'), 2)
  t.equal(cache.get('vt', 'Address', 'a', 1e9), undefined)
  t.ok(cache.get('vt', 'Address', 'c', 1e9))
})
