/**
 * A vendor that misbehaves (hangs, resets, drips, 5xx storm, garbage, oversized) never breaks /run: the reply
 * comes by the run's deadline, with the source in enrich.results.sources.failed and the embedded sources' answers
 * intact.
 * The deadline also cancels the outstanding call: the vendor sees its connection closed.
 */
import t from 'tap'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { startApp } from '../helpers/app.js'
import { startFakeVendor, type FakeReply } from '../helpers/fake-vendor.js'
import { runReply } from '../helpers/run-reply.js'

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason)
}
process.on('unhandledRejection', onUnhandled)
t.teardown(() => {
  process.off('unhandledRejection', onUnhandled)
})

const RUN_TIMEOUT_MS = 700
/** Slack over the deadline for the reply itself on a busy, shared machine; not a performance bound. */
const SLACK_MS = 2000
const IP = '198.51.100.77'

const faultEnv = (baseUrl: string): Record<string, string> => ({
  INTERNETDB_BASE_URL: baseUrl,
  INTERNETDB_RATE_LIMIT: '1000/1s',
  RUN_TIMEOUT_MS: String(RUN_TIMEOUT_MS),
  RUN_RATE_LIMIT: 'off',
})

const faults: { name: string; reply: FakeReply; kind: RegExp }[] = [
  { name: 'hangs', reply: { hang: true }, kind: /^internetdb: timeout - / },
  { name: 'resets the connection', reply: { reset: true }, kind: /^internetdb: network - / },
  {
    name: 'drips the body a byte at a time',
    reply: { drip: { intervalMs: 50 }, json: { ports: [1, 2, 3], vulns: [], hostnames: [], tags: [], cpes: [] } },
    kind: /^internetdb: timeout - /,
  },
  {
    name: 'answers a 5xx storm',
    reply: { status: 503, json: { detail: 'overloaded' } },
    kind: /^internetdb: (http error|timeout) - /,
  },
  {
    name: 'answers garbage',
    reply: { status: 200, body: '{"ports": [1, 2,,, <html>', headers: { 'content-type': 'application/json' } },
    kind: /^internetdb: bad answer - /,
  },
  {
    name: 'answers HTML instead of JSON',
    reply: { status: 200, body: '<html><body>Gateway says hi</body></html>', headers: { 'content-type': 'text/html' } },
    kind: /^internetdb: bad answer - /,
  },
  {
    name: 'sends an oversized body',
    reply: { status: 200, bodyBytes: 3 * 1024 * 1024, headers: { 'content-type': 'application/json' } },
    kind: /^internetdb: too large - /,
  },
]

for (const fault of faults) {
  t.test(`a vendor that ${fault.name}: answered by the deadline, listed as failed`, async (t) => {
    const vendor = await startFakeVendor(t)
    vendor.route('GET', /.*/, fault.reply)
    const { app } = await startApp(t, faultEnv(vendor.url))
    const startedAt = Date.now()
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: IP, sources: 'asn|internetdb', force_refresh: true },
    })
    const tookMs = Date.now() - startedAt
    t.equal(res.statusCode, 200)
    t.ok(tookMs < RUN_TIMEOUT_MS + SLACK_MS, `answered in ${tookMs} ms (deadline ${RUN_TIMEOUT_MS} ms)`)
    const reply = runReply(res)
    const failed = reply.outputs['enrich.results.sources.failed'] as string[]
    t.equal(failed.length, 1)
    t.match(failed[0], fault.kind)
    t.same(reply.outputs['enrich.results.sources.ok'], ['asn'], 'the embedded source still answered')
    t.equal(reply.exitCode, 0, 'a failed source is not a failed run')
    t.ok(vendor.requests.length >= 1, 'the fake was really asked')
  })
}

t.test('the deadline cancels the outstanding call: the vendor sees its connection closed', async (t) => {
  // A vendor that never answers and notes when each connection closes (the shared fake does not expose sockets).
  const closedAt: number[] = []
  const arrivedAt: number[] = []
  const sockets = new Set<Socket>()
  const server = http.createServer((req) => {
    arrivedAt.push(Date.now())
    req.socket.once('close', () => closedAt.push(Date.now()))
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as AddressInfo
  const { app } = await startApp(t, faultEnv(`http://127.0.0.1:${port}`))

  const res = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: IP, sources: 'internetdb', force_refresh: true },
  })
  const repliedAt = Date.now()
  t.equal(res.statusCode, 502, 'the only source failed: the run failed (fail_on_error)')
  t.match(
    (runReply(res).outputs['enrich.results.sources.failed'] as string[])[0],
    /^internetdb: timeout - the run's deadline of 700 ms passed/,
  )
  t.equal(arrivedAt.length, 1, 'the call reached the vendor')
  const until = Date.now() + 3000
  while (closedAt.length < 1 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(closedAt.length, 1, 'the vendor saw the connection closed')
  t.ok(
    (closedAt[0] ?? Infinity) - repliedAt < 1000,
    'closed when the deadline passed, not when a vendor timeout would have',
  )
  t.equal(sockets.size, 0, 'no connection left open to the vendor')
})

t.test('a caller that goes away cancels its source calls too', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', /.*/, { hang: true })
  const { app } = await startApp(t, { ...faultEnv(vendor.url), RUN_TIMEOUT_MS: '20000' })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/run',
    headers: { 'content-type': 'application/json' },
  })
  req.on('error', () => undefined)
  req.end(JSON.stringify({ indicator: IP, sources: 'internetdb', force_refresh: true }))
  const until = Date.now() + 5000
  while (vendor.requests.length < 1 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(vendor.requests.length, 1)
  req.destroy()
  // With the call cancelled the app closes at once; a leaked call would hold close() until the vendor timeout.
  const closing = Date.now()
  await app.close()
  t.ok(Date.now() - closing < 5000, 'nothing left waiting on the vendor')
})

t.test('no unhandled promise rejections during the fault runs', async (t) => {
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(unhandled.map(String), [])
})
