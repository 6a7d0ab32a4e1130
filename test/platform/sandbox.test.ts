/** The sandbox itself, over raw HTTP: authentication, owners, v3 shapes, upsert, tags/attributes, paging, TQL. */
import t from 'tap'
import { signRequest } from '../../src/platform/hmac.js'
import { buildSandbox } from '../../tools/tc-sandbox/app.js'
import { parseTql } from '../../tools/tc-sandbox/tql.js'
import { ACCESS_ID, SECRET_KEY, startSandbox, TOKEN } from './harness.js'

interface Answer {
  status: number
  body: Record<string, unknown>
}

const call = async (
  base: string,
  method: string,
  pathWithQuery: string,
  options: { body?: unknown; timestamp?: number; sign?: string; headers?: Record<string, string> } = {},
): Promise<Answer> => {
  const signed = signRequest({
    accessId: ACCESS_ID,
    secretKey: SECRET_KEY,
    pathWithQuery: options.sign ?? pathWithQuery,
    method,
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
  })
  const res = await fetch(`${base}${pathWithQuery}`, {
    method,
    headers: {
      ...(options.headers ?? { Authorization: signed.Authorization, Timestamp: signed.Timestamp }),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

const data = (a: Answer): Record<string, unknown> => a.body['data'] as Record<string, unknown>
const list = (a: Answer): Array<Record<string, unknown>> => a.body['data'] as Array<Record<string, unknown>>

const TQL_8888 = '/api/v3/indicators?tql=summary%20EQ%20%228.8.8.8%22'

t.test('HMAC: signature over the raw path+query; timestamp window of 5 minutes', async (t) => {
  const { url } = await startSandbox(t, { seed: [{ type: 'Address', value: '8.8.8.8' }] })
  const ok = await call(url, 'GET', TQL_8888)
  t.equal(ok.status, 200)
  t.equal(list(ok).length, 1)

  const otherEncoding = await call(url, 'GET', TQL_8888, { sign: '/api/v3/indicators?tql=summary+EQ+%228.8.8.8%22' })
  t.equal(otherEncoding.status, 401, 'signing a differently encoded query fails')
  t.same(otherEncoding.body, { status: 'Error', message: 'Signature does not match the request' })

  const now = Math.floor(Date.now() / 1000)
  const sixOff = await call(url, 'GET', TQL_8888, { timestamp: now - 360 })
  t.equal(sixOff.status, 401)
  t.match(sixOff.body['message'], /more than 5 minutes/)
  t.equal((await call(url, 'GET', TQL_8888, { timestamp: now + 360 })).status, 401)
  t.equal((await call(url, 'GET', TQL_8888, { timestamp: now - 290 })).status, 200)

  const none = await call(url, 'GET', TQL_8888, { headers: {} })
  t.equal(none.status, 401)
  const badScheme = await call(url, 'GET', TQL_8888, { headers: { Authorization: 'Bearer x' } })
  t.equal(badScheme.status, 401)
  const noTimestamp = await call(url, 'GET', TQL_8888, { headers: { Authorization: `TC ${ACCESS_ID}:abc` } })
  t.match(noTimestamp.body['message'], /Timestamp/)
})

t.test('token auth, and a sandbox with no token refuses any', async (t) => {
  const { url } = await startSandbox(t)
  t.equal(
    (await call(url, 'GET', '/api/v3/indicators', { headers: { Authorization: `TC-Token ${TOKEN}` } })).status,
    200,
  )
  t.equal((await call(url, 'GET', '/api/v3/indicators', { headers: { Authorization: 'TC-Token wrong' } })).status, 401)
  const tokenless = await startSandbox(t, { token: undefined })
  t.equal(
    (await call(tokenless.url, 'GET', '/api/v3/indicators', { headers: { Authorization: 'TC-Token anything' } }))
      .status,
    401,
  )
})

t.test('owners: unknown -> 403; owner param filters', async (t) => {
  const { url } = await startSandbox(t, {
    seed: [
      { type: 'Address', value: '8.8.8.8', owner: 'Acme Org' },
      { type: 'Address', value: '8.8.8.8', owner: 'Acme Community' },
    ],
  })
  const unknown = await call(url, 'GET', '/api/v3/indicators?owner=Evil%20Corp')
  t.equal(unknown.status, 403)
  t.same(unknown.body, {
    status: 'Error',
    message: "Owner 'Evil Corp' does not exist or the API user has no access to it",
  })
  t.equal(list(await call(url, 'GET', TQL_8888)).length, 2)
  const community = list(await call(url, 'GET', `${TQL_8888}&owner=Acme%20Community`))
  t.same(
    community.map((i) => i['ownerName']),
    ['Acme Community'],
  )
  const owners = await call(url, 'GET', '/api/v3/security/owners')
  t.same(
    list(owners).map((o) => o['name']),
    ['Acme Org', 'Acme Community'],
  )
  t.equal(
    (await call(url, 'POST', '/api/v3/indicators?owner=Nope', { body: { type: 'Host', hostName: 'a.example' } }))
      .status,
    403,
  )
})

t.test('POST creates (201) or updates an existing indicator (200); v3 shapes', async (t) => {
  const { url } = await startSandbox(t)
  const created = await call(url, 'POST', '/api/v3/indicators?fields=tags', {
    body: { type: 'Host', hostName: 'evil.example', rating: 3, tags: { data: [{ name: 'A' }] } },
  })
  t.equal(created.status, 201)
  t.match(created.body, { status: 'Success', message: 'Created' })
  t.match(data(created), {
    type: 'Host',
    hostName: 'evil.example',
    summary: 'evil.example',
    rating: 3,
    ownerName: 'Acme Org',
    tags: { data: [{ name: 'A' }] },
  })

  const again = await call(url, 'POST', '/api/v3/indicators?fields=tags', {
    body: { type: 'Host', hostName: 'evil.example', confidence: 40, tags: { data: [{ name: 'b' }, { name: 'a' }] } },
  })
  t.equal(again.status, 200)
  t.equal(again.body['message'], 'Updated')
  t.equal(data(again)['id'], data(created)['id'], 'the same indicator')
  t.match(data(again), { rating: 3, confidence: 40, tags: { data: [{ name: 'A' }, { name: 'b' }] } })

  const file1 = await call(url, 'POST', '/api/v3/indicators', {
    body: { type: 'File', md5: 'd41d8cd98f00b204e9800998ecf8427e' },
  })
  const file2 = await call(url, 'POST', '/api/v3/indicators', {
    body: {
      type: 'File',
      md5: 'D41D8CD98F00B204E9800998ECF8427E',
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    },
  })
  t.equal(data(file2)['id'], data(file1)['id'], 'a File matches on a shared hash (any case)')
  t.equal(
    data(file2)['summary'],
    'D41D8CD98F00B204E9800998ECF8427E : e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  )

  const bad = await call(url, 'POST', '/api/v3/indicators', { body: { type: 'Address', ip: '999.1.1.1' } })
  t.equal(bad.status, 400)
  t.same(bad.body, { status: 'Error', message: "'999.1.1.1' is not an IP address" })
  t.equal((await call(url, 'POST', '/api/v3/indicators', { body: { type: 'Mutex', name: 'x' } })).status, 400)
  t.equal((await call(url, 'POST', '/api/v3/indicators', { body: { type: 'ASN', 'AS Number': 'AS1' } })).status, 400)
  t.equal((await call(url, 'POST', '/api/v3/indicators', { body: { type: 'Address' } })).status, 400)
})

t.test('PUT: rating/confidence, tags append/replace/delete, attributes; fields only when asked', async (t) => {
  const { app, url } = await startSandbox(t, { seed: [{ type: 'Address', value: '8.8.8.8', tags: ['One'] }] })
  const id = app.sandbox.store.allIndicators()[0]?.id as number
  const put = (body: unknown, q = '') => call(url, 'PUT', `/api/v3/indicators/${id}${q}`, { body })

  const plain = await put({ rating: 4, confidence: 70 })
  t.equal(plain.status, 200)
  t.match(data(plain), { rating: 4, confidence: 70 })
  t.notOk('tags' in data(plain), 'tags are only shown with fields=tags')

  const appended = await put({ tags: { data: [{ name: 'Two' }], mode: 'append' } }, '?fields=tags')
  t.same((data(appended)['tags'] as { data: unknown[] }).data, [{ name: 'One' }, { name: 'Two' }])
  const replaced = await put({ tags: { data: [{ name: 'Three' }], mode: 'replace' } }, '?fields=tags')
  t.same((data(replaced)['tags'] as { data: unknown[] }).data, [{ name: 'Three' }])
  const deleted = await put({ tags: { data: [{ name: 'three' }], mode: 'delete' } }, '?fields=tags')
  t.same(data(deleted)['tags'], {}, 'no tags: an empty object, like the platform')

  const attr = { attributes: { data: [{ type: 'Description', value: 'Bad host.' }], mode: 'append' } }
  await put(attr)
  const twice = await put(attr, '?fields=attributes')
  t.match((data(twice)['attributes'] as { data: unknown[] }).data, [{ type: 'Description', value: 'Bad host.' }])
  t.equal(
    (data(twice)['attributes'] as { data: unknown[] }).data.length,
    1,
    'an identical attribute is not added twice',
  )

  t.equal((await put({ rating: 6 })).status, 400)
  t.equal((await put({ confidence: 50.5 })).status, 400)
  t.equal((await put({ tags: [{ name: 'x' }] })).status, 400)
  t.equal((await put({ tags: { data: [{ name: 'x' }], mode: 'merge' } })).status, 400)
  t.equal((await call(url, 'PUT', '/api/v3/indicators/9999', { body: {} })).status, 404)
  t.equal((await call(url, 'GET', '/api/v3/indicators/abc')).status, 404)
  t.equal((await call(url, 'GET', `/api/v3/indicators/${id}`)).status, 200)
})

t.test('posts: create, list with paging (count on the first page only, absolute next)', async (t) => {
  const { app, url } = await startSandbox(t, { seed: [{ type: 'Address', value: '8.8.8.8' }] })
  const id = app.sandbox.store.allIndicators()[0]?.id as number
  for (let i = 0; i < 5; i++) {
    const made = await call(url, 'POST', '/api/v3/posts', {
      body: { objectId: id, objectType: 'Indicator', text: `note ${i}` },
    })
    t.equal(made.status, 201)
    t.match(data(made), { text: `note ${i}`, author: ACCESS_ID })
  }
  const first = await call(url, 'GET', `/api/v3/posts?objectId=${id}&objectType=Indicator&resultStart=0&resultLimit=2`)
  t.equal(first.body['count'], 5)
  t.same(
    list(first).map((p) => p['text']),
    ['note 0', 'note 1'],
  )
  t.equal(first.body['next'], `${url}/api/v3/posts?objectId=${id}&objectType=Indicator&resultStart=2&resultLimit=2`)
  const last = await call(url, 'GET', `/api/v3/posts?objectId=${id}&objectType=Indicator&resultStart=4&resultLimit=2`)
  t.same(
    list(last).map((p) => p['text']),
    ['note 4'],
  )
  t.notOk('next' in last.body)
  t.notOk('count' in last.body)

  t.equal((await call(url, 'GET', '/api/v3/posts?objectType=Indicator')).status, 400)
  t.equal((await call(url, 'GET', `/api/v3/posts?objectId=${id}&objectType=Group`)).status, 400)
  t.equal((await call(url, 'GET', '/api/v3/posts?objectId=999&objectType=Indicator')).status, 404)
  t.equal((await call(url, 'GET', `/api/v3/posts?objectId=${id}&objectType=Indicator&resultLimit=10001`)).status, 400)
  t.equal(
    (await call(url, 'POST', '/api/v3/posts', { body: { objectId: id, objectType: 'Indicator', text: '' } })).status,
    400,
  )
  t.equal(
    (await call(url, 'POST', '/api/v3/posts', { body: { objectId: 999, objectType: 'Indicator', text: 'x' } })).status,
    404,
  )
})

t.test('TQL subset and unknown routes', async (t) => {
  const { url } = await startSandbox(t, {
    seed: [
      { type: 'Address', value: '8.8.8.8' },
      { type: 'Host', value: 'a.example' },
    ],
  })
  const q = (tql: string) => call(url, 'GET', `/api/v3/indicators?tql=${encodeURIComponent(tql)}`)
  t.same(
    list(await q('typeName EQ "Host"')).map((i) => i['summary']),
    ['a.example'],
  )
  t.same(
    list(await q('typeName NE "Host" and summary eq "8.8.8.8"')).map((i) => i['summary']),
    ['8.8.8.8'],
  )
  const bad = await q('summary CONTAINS "8"')
  t.equal(bad.status, 400)
  t.match(bad.body['message'], /Invalid TQL/)
  const notFound = await call(url, 'GET', '/api/v2/indicators')
  t.equal(notFound.status, 404)
  t.equal(notFound.body['status'], 'Error')
})

t.test('TQL parser', async (t) => {
  t.ok(parseTql('summary EQ "a \\"quoted\\" \\\\ value"').ok)
  t.notOk(parseTql('summary EQ "open').ok)
  t.notOk(parseTql('summary EQ').ok)
  t.notOk(parseTql('nosuch EQ "x"').ok)
  t.notOk(parseTql('summary EQ "x" (').ok)
  t.notOk(parseTql('(summary EQ "x"').ok)
  t.notOk(parseTql('lastModified GT "yesterday"').ok, 'a date field takes a date')
  t.notOk(parseTql('summary CONTAINS "x"').ok)
})

t.test('TQL: OR, parentheses, comparisons and dates, as the watchlist service sends them', async (t) => {
  const at = (lastModified: string, rating: number, summary: string) =>
    ({
      id: 1,
      type: 'Host',
      ownerName: 'o',
      values: { hostName: summary },
      rating,
      confidence: 50,
      tags: [],
      attributes: [],
      active: true,
      dateAdded: lastModified,
      lastModified,
    }) as const
  const old = at('2026-12-01T10:00:00Z', 4, 'old.test')
  const fresh = at('2026-12-01T12:00:00Z', 2, 'fresh.test')
  const q = (tql: string) => {
    const parsed = parseTql(tql)
    if (!parsed.ok) throw new Error(parsed.problem)
    return [old, fresh].filter((i) => parsed.matches(i as never)).map((i) => i.values.hostName)
  }
  t.same(q('summary EQ "old.test" OR summary EQ "fresh.test"'), ['old.test', 'fresh.test'])
  t.same(q('(rating GEQ 3) AND lastModified GT "2026-12-01T11:00:00Z"'), [])
  t.same(q('(rating GEQ 3 OR rating LT 3) AND lastModified GT "2026-12-01T11:00:00Z"'), ['fresh.test'])
  t.same(q('rating > 3'), ['old.test'])
  t.same(q('lastModified LEQ "2026-12-01T10:00:00Z"'), ['old.test'])
})

t.test('seed with an unknown owner is refused', async (t) => {
  t.throws(
    () => buildSandbox({ owners: ['A'], seed: [{ type: 'Address', value: '1.1.1.1', owner: 'B' }] }),
    /owner 'B'/,
  )
  t.throws(() => buildSandbox({ owners: [] }), /at least one owner/)
})
