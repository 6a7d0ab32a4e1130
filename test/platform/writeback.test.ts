/** writeBack end to end: real HTTP client -> sandbox on 127.0.0.1. */
import t from 'tap'
import { SourceError } from '../../src/errors.js'
import type { PlatformClient, PlatformIndicator } from '../../src/platform/client.js'
import { ratingFor } from '../../src/enrich/verdict.js'
import { skippedWriteback, writeBack, type WritebackRequest } from '../../src/platform/writeback.js'
import { closedPortUrl, platformClient, startSandbox, TOKEN } from './harness.js'

const NOTE = 'Enrichment: malicious (score 92)\nabuseipdb: 100% confidence\n\ndigest: ab12cd34'

const request = (over: Partial<WritebackRequest> = {}): WritebackRequest => ({
  indicator: { type: 'Address', value: '8.8.8.8' },
  owner: 'Acme Org',
  text: NOTE,
  digest: 'ab12cd34',
  createIndicator: false,
  ...over,
})

const seeded = { seed: [{ type: 'Address' as const, value: '8.8.8.8', owner: 'Acme Org', tags: ['Existing'] }] }

t.test('note written on an existing indicator', async (t) => {
  const { app, url } = await startSandbox(t, seeded)
  const result = await writeBack(platformClient(t, url), request())
  t.equal(result.status, 'written', result.reason)
  const [indicator] = app.sandbox.store.allIndicators()
  t.equal(result.indicatorId, indicator?.id)
  const posts = app.sandbox.store.postsFor(indicator?.id ?? -1)
  t.equal(posts.length, 1)
  t.equal(posts[0]?.text, NOTE)
  t.equal(result.noteId, posts[0]?.id)
  t.match(result.reason, /^note written \(post \d+\) on indicator \d+; nothing else to change$/)
  t.equal(result.duplicateOf, undefined)
})

t.test('rating, confidence, tags and Description applied', async (t) => {
  const { app, url } = await startSandbox(t, seeded)
  const result = await writeBack(
    platformClient(t, url),
    request({
      rating: 4,
      confidence: 85,
      tags: ['Malicious', 'existing', 'C2', 'Malicious'],
      description: 'Seen as a C2 by 3 sources.',
    }),
  )
  t.equal(result.status, 'written', result.reason)
  const indicator = app.sandbox.store.allIndicators()[0]
  t.equal(indicator?.rating, 4)
  t.equal(indicator?.confidence, 85)
  t.same(
    indicator?.tags,
    ['Existing', 'Malicious', 'C2'],
    'appended; known tag (any case) and duplicates not sent again',
  )
  t.same(
    indicator?.attributes.map((a) => [a.type, a.value]),
    [['Description', 'Seen as a C2 by 3 sources.']],
  )
  t.match(result.reason, /applied rating 4, confidence 85, 2 tags, Description attribute/)
  const put = app.sandbox.requests.filter((r) => r.method === 'PUT')
  t.equal(put.length, 1, 'one PUT carries every change')
})

t.test('rating 0 leaves the rating alone', async (t) => {
  const { app, url } = await startSandbox(t, {
    seed: [{ type: 'Address', value: '8.8.8.8', owner: 'Acme Org', rating: 3 }],
  })
  const result = await writeBack(platformClient(t, url), request({ rating: 0 }))
  t.equal(result.status, 'written')
  t.equal(app.sandbox.store.allIndicators()[0]?.rating, 3)
  t.equal(app.sandbox.requests.filter((r) => r.method === 'PUT').length, 0)
})

t.test('no duplicate note or Description on retry', async (t) => {
  const { app, url } = await startSandbox(t, seeded)
  const client = platformClient(t, url)
  const req = request({ rating: 5, confidence: 95, tags: ['Malicious'], description: 'Bad.' })
  const first = await writeBack(client, req)
  const second = await writeBack(client, req)
  t.equal(first.status, 'written')
  t.equal(second.status, 'written')
  t.equal(second.noteId, first.noteId)
  t.equal(second.duplicateOf, first.noteId)
  t.match(second.reason, /note already present/)
  t.match(second.reason, /nothing else to change/)
  const indicator = app.sandbox.store.allIndicators()[0]
  t.equal(app.sandbox.store.postsFor(indicator?.id ?? -1).length, 1)
  t.equal(indicator?.attributes.length, 1)
  t.equal(app.sandbox.requests.filter((r) => r.method === 'POST').length, 1, 'only the first run posted')

  const changed = await writeBack(client, { ...req, digest: 'ffee0011', text: 'new findings\n\ndigest: ffee0011' })
  t.equal(changed.status, 'written')
  t.not(changed.noteId, first.noteId, 'different findings give a new note')
  t.equal(app.sandbox.store.postsFor(indicator?.id ?? -1).length, 2)
})

t.test('the duplicate check reads every page of posts', async (t) => {
  const earlier = Array.from({ length: 7 }, (_, i) => `older note ${i}\n\ndigest: 0000000${i}`)
  const { app, url } = await startSandbox(t, {
    seed: [{ type: 'Address', value: '8.8.8.8', owner: 'Acme Org', posts: [...earlier, NOTE] }],
  })
  const client = platformClient(t, url, { extra: { pageSize: 3 } })
  const result = await writeBack(client, request())
  t.equal(result.status, 'written')
  t.ok(result.duplicateOf, 'found the note on the third page')
  const pages = app.sandbox.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/api/v3/posts'))
  t.equal(pages.length, 3)
})

t.test('a note without the digest marker gets it appended', async (t) => {
  const { app, url } = await startSandbox(t, seeded)
  const client = platformClient(t, url)
  const req = request({ text: 'Enrichment: benign' })
  const first = await writeBack(client, req)
  const second = await writeBack(client, req)
  const indicator = app.sandbox.store.allIndicators()[0]
  const posts = app.sandbox.store.postsFor(indicator?.id ?? -1)
  t.equal(posts.length, 1)
  t.equal(posts[0]?.text, 'Enrichment: benign\n\ndigest: ab12cd34')
  t.equal(second.duplicateOf, first.noteId)
})

t.test('indicator created when asked', async (t) => {
  const { app, url } = await startSandbox(t)
  const result = await writeBack(
    platformClient(t, url),
    request({ owner: 'Acme Community', createIndicator: true, rating: 2, confidence: 60 }),
  )
  t.equal(result.status, 'written', result.reason)
  const [indicator] = app.sandbox.store.allIndicators()
  t.equal(indicator?.ownerName, 'Acme Community')
  t.same(indicator?.values, { ip: '8.8.8.8' })
  t.equal(indicator?.rating, 2)
  t.equal(indicator?.confidence, 60)
  t.equal(result.indicatorId, indicator?.id)
  t.match(result.reason, /on new indicator/)
  t.equal(app.sandbox.store.postsFor(indicator?.id ?? -1).length, 1)
})

t.test('each indicator type is created with its own field', async (t) => {
  const { app, url } = await startSandbox(t)
  const client = platformClient(t, url)
  const cases = [
    ['Host', 'evil.example.com', { hostName: 'evil.example.com' }],
    ['URL', "http://evil.example.com/a'b?c=d%20e&f=(1)*!", { text: "http://evil.example.com/a'b?c=d%20e&f=(1)*!" }],
    ['EmailAddress', 'bad@evil.example.com', { address: 'bad@evil.example.com' }],
    ['File', 'd41d8cd98f00b204e9800998ecf8427e', { md5: 'd41d8cd98f00b204e9800998ecf8427e' }],
    [
      'File',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      { sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    ],
    ['ASN', 'AS15169', { 'AS Number': 'ASN15169' }],
    ['CIDR', '192.0.2.0/24', { Block: '192.0.2.0/24' }],
  ] as const
  for (const [type, value, values] of cases) {
    const result = await writeBack(client, request({ indicator: { type, value }, createIndicator: true }))
    t.equal(result.status, 'written', `${type}: ${result.reason}`)
    t.same(app.sandbox.store.indicator(result.indicatorId ?? -1)?.values, values, type)
    // A second run finds what the first created (TQL and quoting round-trip through the signed URL).
    const again = await writeBack(client, request({ indicator: { type, value }, createIndicator: false }))
    t.equal(again.indicatorId, result.indicatorId, `${type} found again`)
    t.equal(again.duplicateOf, result.noteId, `${type} note not repeated`)
  }
})

t.test('missing indicator reported when not asked to create it', async (t) => {
  const { app, url } = await startSandbox(t, seeded)
  const result = await writeBack(platformClient(t, url), request({ owner: 'Acme Community' }))
  t.same(result, {
    status: 'failed',
    reason: 'indicator 8.8.8.8 (Address) not found in owner Acme Community',
    indicatorId: null,
    noteId: null,
  })
  t.equal(app.sandbox.store.allIndicators().length, 1, 'nothing created')
  const noOwner = await writeBack(
    platformClient(t, url),
    request({ owner: undefined, indicator: { type: 'Host', value: 'x.example' } }),
  )
  t.equal(noOwner.reason, "indicator x.example (Host) not found in the API user's organization")
})

t.test('bad credentials -> failed with a clear reason', async (t) => {
  const { app, url } = await startSandbox(t, seeded)
  const wrongKey = await writeBack(
    platformClient(t, url, { credentials: { kind: 'hmac', accessId: 'sandbox-access-id', secretKey: 'wrong' } }),
    request(),
  )
  t.same(wrongKey, {
    status: 'failed',
    reason: 'ThreatConnect rejected the credentials (HTTP 401)',
    indicatorId: null,
    noteId: null,
  })
  const unknownId = await writeBack(
    platformClient(t, url, { credentials: { kind: 'hmac', accessId: 'nobody', secretKey: 'x' } }),
    request(),
  )
  t.equal(unknownId.reason, 'ThreatConnect rejected the credentials (HTTP 401)')
  const badToken = await writeBack(platformClient(t, url, { credentials: { kind: 'token', token: 'nope' } }), request())
  t.equal(badToken.reason, 'ThreatConnect rejected the credentials (HTTP 401)')
  t.equal(app.sandbox.requests.filter((r) => r.status === 401).length, 3)

  const goodToken = await writeBack(platformClient(t, url, { credentials: { kind: 'token', token: TOKEN } }), request())
  t.equal(goodToken.status, 'written', 'a valid token works')
})

t.test('unknown owner -> failed with the 403 reason', async (t) => {
  const { url } = await startSandbox(t, seeded)
  const result = await writeBack(platformClient(t, url), request({ owner: 'Nobody Inc' }))
  t.equal(result.status, 'failed')
  t.match(
    result.reason,
    /^ThreatConnect refused access \(HTTP 403\) for GET \/api\/v3\/indicators: Owner 'Nobody Inc' does not exist/,
  )
})

t.test('sandbox down -> failed with the network reason', async (t) => {
  const url = await closedPortUrl()
  const result = await writeBack(platformClient(t, url), request())
  t.equal(result.status, 'failed')
  t.match(result.reason, /connection to threatconnect failed: ECONNREFUSED/)
  t.equal(result.indicatorId, null)
})

t.test('a clock 6 minutes off -> 401; 4 minutes off still works', async (t) => {
  const { url } = await startSandbox(t, seeded)
  const skewed = await writeBack(platformClient(t, url, { extra: { now: () => Date.now() - 6 * 60_000 } }), request())
  t.same(skewed, {
    status: 'failed',
    reason: 'ThreatConnect rejected the credentials (HTTP 401)',
    indicatorId: null,
    noteId: null,
  })
  const ahead = await writeBack(platformClient(t, url, { extra: { now: () => Date.now() + 6 * 60_000 } }), request())
  t.equal(ahead.status, 'failed', 'ahead by 6 minutes too')
  const slight = await writeBack(platformClient(t, url, { extra: { now: () => Date.now() - 4 * 60_000 } }), request())
  t.equal(slight.status, 'written', slight.reason)
})

t.test('invalid requests fail before any call', async (t) => {
  const { app, url } = await startSandbox(t, seeded)
  const client = platformClient(t, url)
  t.match((await writeBack(client, request({ rating: 6 }))).reason, /rating 6 is not a whole number 0-5/)
  t.match((await writeBack(client, request({ confidence: 101 }))).reason, /confidence 101/)
  t.match((await writeBack(client, request({ digest: '' }))).reason, /digest/)
  t.match((await writeBack(client, request({ text: ' ' }))).reason, /note text is empty/)
  t.equal(app.sandbox.requests.length, 0)
})

t.test('ratingFor: the documented mapping', async (t) => {
  t.equal(ratingFor('malicious', 95), 5)
  t.equal(ratingFor('malicious', 90), 5)
  t.equal(ratingFor('malicious', 89), 4)
  t.equal(ratingFor('malicious', 75), 4)
  t.equal(ratingFor('malicious', 74), 3)
  t.equal(ratingFor('malicious', null), 4)
  t.equal(ratingFor('suspicious', 50), 2)
  t.equal(ratingFor('suspicious', 49), 1)
  t.equal(ratingFor('suspicious', null), 1)
  t.equal(ratingFor('benign', 100), 0)
  t.equal(ratingFor('unknown', null), 0)
})

t.test('failures after lookup keep what is known and never throw', async (t) => {
  const indicator: PlatformIndicator = {
    id: 7,
    type: 'Address',
    summary: '8.8.8.8',
    ownerName: 'Acme Org',
    rating: null,
    confidence: null,
    tags: [],
    attributes: [],
    hashes: [],
  }
  const client = (over: Partial<PlatformClient>): PlatformClient => ({
    findIndicator: async () => indicator,
    createIndicator: async () => indicator,
    listPosts: async () => [],
    createPost: async () => ({ id: 70, text: '' }),
    updateIndicator: async () => indicator,
    queryIndicators: async () => ({ items: [], more: false }),
    ...over,
  })
  const updateFails = await writeBack(
    client({
      updateIndicator: async () => {
        throw new SourceError('http_error', 'ThreatConnect rejected PUT /api/v3/indicators/7 (HTTP 400): bad tag')
      },
    }),
    request({ tags: ['x'] }),
  )
  t.same(updateFails, {
    status: 'failed',
    reason:
      'note is on the indicator but the update failed: ThreatConnect rejected PUT /api/v3/indicators/7 (HTTP 400): bad tag',
    indicatorId: 7,
    noteId: 70,
  })
  const breakerOpen = await writeBack(
    client({
      findIndicator: async () => {
        throw new SourceError('circuit_open', 'threatconnect circuit open', { skipped: true })
      },
    }),
    request(),
  )
  t.same(breakerOpen, { status: 'skipped', reason: 'threatconnect circuit open', indicatorId: null, noteId: null })
  const bug = await writeBack(
    client({
      listPosts: async () => {
        throw new TypeError('boom')
      },
    }),
    request(),
  )
  t.same(bug, { status: 'failed', reason: 'internal error during write-back: boom', indicatorId: 7, noteId: null })
  t.same(skippedWriteback('not asked'), { status: 'skipped', reason: 'not asked', indicatorId: null, noteId: null })
})
