/** The fake vendor helper itself: scripting, recording, and the misbehaviours other tests rely on. */
import t from 'tap'
import { startFakeVendor } from '../helpers/fake-vendor.js'

t.test('scripted replies in order, the last one repeating; unmatched paths get a 404', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/seq', { status: 503 }, { json: { n: 2 } })
  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await fetch(`${vendor.url}/seq`)).status)
  t.same(statuses, [503, 200, 200])
  const missing = await fetch(`${vendor.url}/nope`)
  t.equal(missing.status, 404)
  t.same(await missing.json(), { error: 'no fake route for GET /nope' })
  vendor.route('GET', '/seq', { status: 418 })
  t.equal((await fetch(`${vendor.url}/seq`)).status, 418, 're-routing replaces the script')
  vendor.route('*', /^\/any\//, (req) => ({ json: { method: req.method, path: req.path } }))
  t.same(await (await fetch(`${vendor.url}/any/x`, { method: 'DELETE' })).json(), { method: 'DELETE', path: '/any/x' })
  vendor.fallback({ status: 410 })
  t.equal((await fetch(`${vendor.url}/gone`)).status, 410)
})

t.test('records method, path, query, headers, JSON and form bodies, arrival time', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('POST', '/p', { json: {} })
  const before = Date.now()
  await fetch(`${vendor.url}/p?a=1&b=two`, {
    method: 'POST',
    headers: { 'x-apikey': 'k', 'content-type': 'application/json' },
    body: '{"q":1}',
  })
  await fetch(`${vendor.url}/p`, { method: 'POST', body: new URLSearchParams({ host: 'example.com' }) })
  const [json, form] = vendor.requestsTo('/p', 'post')
  t.match(json, {
    method: 'POST',
    path: '/p',
    url: '/p?a=1&b=two',
    query: { a: '1', b: 'two' },
    body: '{"q":1}',
    json: { q: 1 },
  })
  t.equal(json?.headers['x-apikey'], 'k')
  t.ok((json?.arrivedAt ?? 0) >= before - 5 && (json?.arrivedAt ?? 0) <= Date.now() + 5)
  t.same(form?.form, { host: 'example.com' })
  t.equal(form?.json, undefined)
})

t.test('delay, oversize and raw bodies, dripping', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', '/slow', { delayMs: 150, json: { late: true } })
  vendor.route('GET', '/big', { bodyBytes: 100_000 })
  vendor.route('GET', '/raw', { body: '{"broken":', headers: { 'content-type': 'application/json' } })
  vendor.route('GET', '/drip', { body: 'abcdef', drip: { intervalMs: 30, chunkBytes: 2 } })
  let started = performance.now()
  t.same(await (await fetch(`${vendor.url}/slow`)).json(), { late: true })
  t.ok(performance.now() - started >= 140)
  t.equal((await (await fetch(`${vendor.url}/big`)).arrayBuffer()).byteLength, 100_000)
  t.equal(await (await fetch(`${vendor.url}/raw`)).text(), '{"broken":')
  started = performance.now()
  t.equal(await (await fetch(`${vendor.url}/drip`)).text(), 'abcdef')
  t.ok(performance.now() - started >= 55, 'three chunks, 30 ms apart')
})

t.test('reset and hang; close() ends hanging connections', async (t) => {
  const vendor = await startFakeVendor()
  vendor.route('GET', '/reset', { reset: true })
  vendor.route('GET', '/hang', { hang: true })
  const reset = await fetch(`${vendor.url}/reset`).then(
    () => 'answered',
    (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
  )
  t.equal(reset, 'ECONNRESET')
  const hanging = fetch(`${vendor.url}/hang`).then(
    () => 'answered',
    () => 'connection closed',
  )
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(vendor.requestsTo('/hang').length, 1, 'a hanging request is recorded')
  await vendor.close()
  t.equal(await hanging, 'connection closed')
})
