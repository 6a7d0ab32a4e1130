/**
 * The stand-in's v2 Batch API held to ThreatConnect's documentation (test/platform/fixtures/v2-batch-docs.json, the
 * examples of docs/rest_api/v2/batch_api/v2_batch_api.rst): every answer has the example's status code, fields and
 * field types; the write types do what the documentation says. Last turn the stand-in answered "Success" where the
 * platform answers 202 Queued, and every real upload would have failed while every test passed.
 */
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { signRequest } from '../../src/platform/hmac.js'
import { ACCESS_ID, OWNERS, SECRET_KEY, startSandbox } from './harness.js'

interface Example {
  readonly status: number
  readonly body?: Record<string, unknown>
  readonly headers?: Record<string, string>
}
const DOCS = JSON.parse(readFileSync(new URL('./fixtures/v2-batch-docs.json', import.meta.url), 'utf8')) as Record<
  string,
  Example
> & { statuses: string[]; writeTypes: { attributeWriteType: string[]; tagWriteType: string[] } }

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly raw: Buffer
  readonly body: Record<string, unknown>
}

const call = async (base: string, method: string, path: string, body?: unknown, octet = false): Promise<Answer> => {
  const signed = signRequest({
    accessId: ACCESS_ID,
    secretKey: SECRET_KEY,
    pathWithQuery: path,
    method,
    timestamp: Math.floor(Date.now() / 1000),
  })
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      Authorization: signed.Authorization,
      Timestamp: signed.Timestamp,
      ...(body === undefined ? {} : { 'content-type': octet ? 'application/octet-stream' : 'application/json' }),
      'accept-encoding': 'identity',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const raw = Buffer.from(await res.arrayBuffer())
  let parsed: Record<string, unknown> = {}
  try {
    parsed = JSON.parse(raw.toString('utf8')) as Record<string, unknown>
  } catch {
    parsed = {}
  }
  return { status: res.status, headers: res.headers, raw, body: parsed }
}

/** Same status, the same field names, each of the same JSON type as the documentation's example. */
const likeExample = (t: Test, got: Answer, example: Example | undefined, what: string): void => {
  if (example === undefined) throw new Error(`no example for ${what}`)
  t.equal(got.status, example.status, `${what}: HTTP ${example.status} as documented`)
  if (example.body !== undefined) {
    t.same(Object.keys(got.body).sort(), Object.keys(example.body).sort(), `${what}: the documented fields`)
    for (const [field, value] of Object.entries(example.body))
      t.equal(typeof got.body[field], typeof value, `${what}: ${field} is a ${typeof value}`)
  }
  for (const [name, value] of Object.entries(example.headers ?? {}))
    t.match(got.headers.get(name), value, `${what}: ${name}`)
}

const job = (writeTypes: { attribute: string; tag?: string }, action = 'Create') => ({
  version: 'V2',
  owner: OWNERS[0],
  action,
  haltOnError: 'false',
  attributeWriteType: writeTypes.attribute,
  ...(writeTypes.tag === undefined ? {} : { tagWriteType: writeTypes.tag }),
})

t.test('every batch endpoint answers as the documentation shows', async (t) => {
  const { url } = await startSandbox(t, { batch: { pollsUntilDone: 2 } })
  const created = await call(url, 'POST', '/api/v2/batch', job({ attribute: 'Singleton', tag: 'Append' }))
  likeExample(t, created, DOCS['createJob'], 'create a job')
  const id = String(created.body['batchId'])
  t.match(id, /^\d+$/)
  const before = await call(url, 'GET', `/api/v2/batch/${id}`)
  t.equal(before.body['status'], 'Created', 'a job with nothing uploaded yet is Created')
  const uploaded = await call(
    url,
    'POST',
    `/api/v2/batch/${id}`,
    {
      indicator: [
        { summary: '198.51.100.1', type: 'Address', rating: 3 },
        { summary: 'nonsense', type: 'Bogus' },
      ],
    },
    true,
  )
  likeExample(t, uploaded, DOCS['upload'], 'upload the file')
  const running = await call(url, 'GET', `/api/v2/batch/${id}`)
  likeExample(t, running, DOCS['statusRunning'], 'status while running')
  const errorsEarly = await call(url, 'GET', `/api/v2/batch/${id}/errors`)
  likeExample(t, errorsEarly, DOCS['errorsWhileRunning'], 'errors while running')
  const completed = await call(url, 'GET', `/api/v2/batch/${id}`)
  likeExample(t, completed, DOCS['statusCompleted'], 'status once completed')
  t.match(completed.body, { status: 'Completed', successCount: 1, errorCount: 1 })
  const errors = await call(url, 'GET', `/api/v2/batch/${id}/errors`)
  likeExample(t, errors, DOCS['errorsCompleted'], 'errors once completed')
  // fetch decodes the gzip itself; a body still gzip-framed is decoded here.
  const listed = errors.raw[0] === 0x1f && errors.raw[1] === 0x8b ? gunzipSync(errors.raw) : errors.raw
  t.match(JSON.parse(listed.toString('utf8')), [{ errorReason: /0x1005/, errorSource: /Bogus nonsense/ }])
  for (const s of [before, running, completed])
    t.ok(DOCS.statuses.includes(String(s.body['status'])), `${String(s.body['status'])} is a documented status`)

  const clean = await call(url, 'POST', '/api/v2/batch', job({ attribute: 'Append' }))
  const cleanId = String(clean.body['batchId'])
  await call(
    url,
    'POST',
    `/api/v2/batch/${cleanId}`,
    { indicator: [{ summary: '198.51.100.2', type: 'Address' }] },
    true,
  )
  await call(url, 'GET', `/api/v2/batch/${cleanId}`)
  await call(url, 'GET', `/api/v2/batch/${cleanId}`)
  likeExample(
    t,
    await call(url, 'GET', `/api/v2/batch/${cleanId}/errors`),
    DOCS['errorsWhenNone'],
    'errors when there are none',
  )
})

t.test('the write types do what the documentation says', async (t) => {
  const { app, url } = await startSandbox(t)
  const store = app.sandbox.store
  const first = {
    summary: 'evil.example',
    type: 'Host',
    tag: [{ name: 'analyst-tag' }],
    attribute: [
      { type: 'Description', value: 'an analyst wrote this' },
      { type: 'Source', value: 'feed A' },
    ],
  }
  const next = {
    summary: 'evil.example',
    type: 'Host',
    tag: [{ name: 'feed-tag' }],
    attribute: [{ type: 'Source', value: 'feed B' }],
  }
  const run = async (writeTypes: { attribute: string; tag?: string }, item: object): Promise<void> => {
    const created = await call(url, 'POST', '/api/v2/batch', job(writeTypes))
    await call(url, 'POST', `/api/v2/batch/${String(created.body['batchId'])}`, { indicator: [item] }, true)
  }
  const host = () => store.allIndicators().find((i) => i.values['hostName'] === 'evil.example')
  const attributes = () => (host()?.attributes ?? []).map((a) => `${a.type}=${a.value}`).sort()

  await run({ attribute: 'Replace', tag: 'Replace' }, first)
  await run({ attribute: 'Singleton', tag: 'Append' }, next)
  t.same(
    attributes(),
    ['Description=an analyst wrote this', 'Source=feed B'],
    'Singleton: only the types sent are replaced',
  )
  t.same(host()?.tags.sort(), ['analyst-tag', 'feed-tag'], 'Append: tags added, none removed')
  await run({ attribute: 'Singleton', tag: 'Append' }, next)
  t.same(attributes(), ['Description=an analyst wrote this', 'Source=feed B'], 'Singleton again: nothing doubled')
  await run({ attribute: 'Append' }, next)
  t.same(
    attributes(),
    ['Description=an analyst wrote this', 'Source=feed B', 'Source=feed B'],
    'Append: redundancy not checked',
  )
  await run({ attribute: 'Static' }, { ...first, attribute: [{ type: 'Source', value: 'ignored' }] })
  t.notOk(attributes().includes('Source=ignored'), 'Static: incoming attributes ignored')
  await run({ attribute: 'Replace', tag: 'Replace' }, next)
  t.same(attributes(), ['Source=feed B'], 'Replace: every attribute swapped for the incoming ones')
  t.same(host()?.tags, ['feed-tag'], 'Replace: every tag swapped')
  t.same(DOCS.writeTypes.attributeWriteType, ['Append', 'Replace', 'Singleton', 'Static'])
  const bad = await call(url, 'POST', '/api/v2/batch', job({ attribute: 'Merge' }))
  t.equal(bad.status, 400, 'a write type the documentation does not list is refused')
})

t.test('an upload of a real size is taken (tcex splits at 75 MB; 1 MiB is a routine ThreatFox update)', async (t) => {
  const { url } = await startSandbox(t)
  const created = await call(url, 'POST', '/api/v2/batch', job({ attribute: 'Singleton', tag: 'Append' }))
  const indicator = Array.from({ length: 5_000 }, (_, i) => ({
    summary: `http://host-${i}.example/${'p'.repeat(900)}`,
    type: 'URL',
    rating: 3,
  }))
  const answer = await call(url, 'POST', `/api/v2/batch/${String(created.body['batchId'])}`, { indicator }, true)
  t.ok(JSON.stringify({ indicator }).length > 4 * 1024 * 1024, 'over 4 MiB')
  t.equal(answer.status, 202)
})
