import t from 'tap'
import { ACCESS_ID, SECRET_KEY, TOKEN, closedPortUrl, startSandbox } from '../platform/harness.js'
import { startApp } from '../helpers/app.js'
import { runReply, type RunReply } from '../helpers/run-reply.js'

const hmacEnv = (url: string): Record<string, string> => ({
  TC_API_PATH: url,
  TC_API_ACCESS_ID: ACCESS_ID,
  TC_API_SECRET_KEY: SECRET_KEY,
})

const run = async (
  app: Awaited<ReturnType<typeof startApp>>['app'],
  payload: Record<string, unknown>,
): Promise<RunReply> => {
  // write_note is off by default; these tests are about writing.
  const res = await app.inject({ method: 'POST', url: '/run', payload: { write_note: true, ...payload } })
  const reply = runReply(res)
  // A failed run answers 502 with the same reply (fail_on_error defaults to true).
  const expected = reply.exitCode === 0 ? 200 : 502
  if (res.statusCode !== expected) throw new Error(`HTTP ${res.statusCode} for exitCode ${reply.exitCode}: ${res.body}`)
  return reply
}

t.test('the note is written onto the indicator; a retry does not post it twice', async (t) => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: '203.0.113.9' }] })
  const { app } = await startApp(t, hmacEnv(sandbox.url), { now: () => new Date('2026-11-23T10:00:00Z') })
  const first = await run(app, { indicator: '203.0.113.9' })
  t.equal(first.exitCode, 0)
  t.equal(first.outputs['enrich.results.writeback.status'], 'written')
  const indicatorId = Number(first.outputs['enrich.results.writeback.indicator_id'])
  const posts = sandbox.app.sandbox.store.postsFor(indicatorId)
  t.equal(posts.length, 1)
  t.equal(String(posts[0]?.id), first.outputs['enrich.results.writeback.note_id'])
  t.equal(posts[0]?.text, first.outputs['enrich.results.note'], 'the note posted is the note returned')
  t.match(posts[0]?.text, /\*\*Verdict: malicious\*\*/)

  const again = await run(app, { indicator: '203.0.113.9' })
  t.equal(again.outputs['enrich.results.writeback.status'], 'written')
  t.match(again.outputs['enrich.results.writeback.reason'], /already/)
  t.equal(sandbox.app.sandbox.store.postsFor(indicatorId).length, 1, 'no second identical note')
})

t.test('rating, confidence, tags and Description applied when asked', async (t) => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Host', value: 'evil.example', tags: ['existing'] }] })
  const { app } = await startApp(t, { TC_API_PATH: sandbox.url, TC_TOKEN: TOKEN })
  const reply = await run(app, {
    indicator: 'evil[.]example',
    apply_rating: true,
    apply_confidence: 'true',
    apply_tags: true,
    apply_description: true,
  })
  t.equal(reply.outputs['enrich.results.writeback.status'], 'written')
  const ind = sandbox.app.sandbox.store.indicator(Number(reply.outputs['enrich.results.writeback.indicator_id']))
  t.equal(ind?.rating, Number(reply.outputs['enrich.results.threat_rating']))
  t.equal(ind?.rating, 5)
  t.equal(ind?.confidence, Number(reply.outputs['enrich.results.confidence']))
  t.same(ind?.tags.slice().sort(), ['c2', 'existing'], 'tags appended')
  t.match(ind?.attributes.find((a) => a.type === 'Description')?.value, /malicious/)
})

t.test('a missing indicator: reported (exitCode 1), or created when asked; outputs come back either way', async (t) => {
  const sandbox = await startSandbox(t)
  const { app } = await startApp(t, hmacEnv(sandbox.url))
  const missing = await run(app, { indicator: '198.51.100.7' })
  t.equal(missing.exitCode, 1)
  t.equal(missing.outputs['enrich.results.writeback.status'], 'failed')
  t.match(missing.outputs['enrich.results.writeback.reason'], /not found/)
  t.match(missing.exitMessage, /^write-back failed for 1 of 1: /)
  t.equal(missing.outputs['enrich.results.verdict'], 'suspicious', 'the enrichment is not lost')
  t.equal(sandbox.app.sandbox.store.allIndicators().length, 0)

  const created = await run(app, { indicator: '198.51.100.7', create_indicator: true })
  t.equal(created.exitCode, 0)
  t.equal(created.outputs['enrich.results.writeback.status'], 'written')
  t.equal(sandbox.app.sandbox.store.allIndicators().length, 1)
})

t.test('bad credentials and a platform that is down: failed write-back with a clear reason', async (t) => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: '8.8.8.8' }] })
  const bad = await startApp(t, {
    TC_API_PATH: sandbox.url,
    TC_API_ACCESS_ID: ACCESS_ID,
    TC_API_SECRET_KEY: 'wrong-secret',
  })
  const r1 = await run(bad.app, { indicator: '8.8.8.8' })
  t.equal(r1.exitCode, 1)
  t.equal(r1.outputs['enrich.results.writeback.status'], 'failed')
  t.match(r1.outputs['enrich.results.writeback.reason'], /ThreatConnect rejected the credentials \(HTTP 401\)/)
  t.equal(r1.outputs['enrich.results.verdict'], 'benign')
  t.notOk(JSON.stringify(bad.logs).includes('wrong-secret'), 'the secret never reaches the logs')

  const down = await startApp(t, hmacEnv(await closedPortUrl()))
  const r2 = await run(down.app, { indicator: '8.8.8.8' })
  t.equal(r2.exitCode, 1)
  t.equal(r2.outputs['enrich.results.writeback.status'], 'failed')
  t.match(r2.outputs['enrich.results.writeback.reason'], /ECONNREFUSED/)
  t.equal(r2.outputs['enrich.results.asn.number'], '15169')
})

t.test('no platform configured, or write_note false: skipped, exitCode 0', async (t) => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: '8.8.8.8' }] })
  const none = await run((await startApp(t)).app, { indicator: '8.8.8.8' })
  t.equal(none.exitCode, 0)
  t.equal(none.outputs['enrich.results.writeback.status'], 'skipped')
  t.match(none.outputs['enrich.results.writeback.reason'], /not configured: set TC_API_PATH/)
  const { app } = await startApp(t, { TC_API_PATH: sandbox.url, TC_TOKEN: TOKEN })
  const off = await run(app, { indicator: '8.8.8.8', write_note: false })
  t.equal(off.outputs['enrich.results.writeback.status'], 'skipped')
  t.equal(off.outputs['enrich.results.writeback.reason'], 'write_note is false')
  t.equal(sandbox.app.sandbox.store.postsFor(1).length, 0, 'nothing written')
})

t.test(
  'fail_on_error false: a failed write-back leaves the step passing (200, exitCode 0), the failure in the outputs',
  async (t) => {
    const { app } = await startApp(t, { TC_API_PATH: await closedPortUrl(), TC_TOKEN: TOKEN })
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: '8.8.8.8', write_note: true, fail_on_error: false },
    })
    t.equal(res.statusCode, 200)
    const reply = runReply(res)
    t.equal(reply.exitCode, 0)
    t.match(reply.exitMessage, /^write-back failed for 1 of 1: /, 'the message still says what failed')
    t.equal(reply.outputs['enrich.results.writeback.status'], 'failed')
  },
)

t.test('an array of indicators: one write-back result per indicator', async (t) => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: '8.8.8.8' }] })
  const { app } = await startApp(t, hmacEnv(sandbox.url))
  const reply = await run(app, { indicator: ['8.8.8.8', '1.1.1.1'] })
  t.same(reply.outputs['enrich.results.writeback.status'], ['written', 'failed'])
  t.equal((reply.outputs['enrich.results.writeback.note_id'] as unknown[])[1], null)
  t.equal(reply.exitCode, 1)
})

t.test(
  '/metrics: ThreatConnect calls count as the platform, not as a source; run, source and write-back latencies',
  async (t) => {
    const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: '203.0.113.9' }] })
    const { app } = await startApp(t, hmacEnv(sandbox.url))
    await run(app, { indicator: '203.0.113.9' })
    const text = (await app.inject({ url: '/metrics' })).body
    t.match(text, /^enrich_platform_requests_total [1-9]\d*$/m, 'platform requests counted')
    t.notMatch(text, /source="threatconnect"/, 'never as a source')
    t.match(text, /^enrich_run_duration_seconds_count\{outcome="ok"\} 1$/m)
    t.match(text, /^enrich_source_call_duration_seconds_count\{source="asn",status="ok"\} 1$/m)
    t.match(text, /^enrich_writeback_duration_seconds_count 1$/m)
    t.match(text, /^process_resident_memory_bytes /m, 'and the process')
  },
)

t.test('a File summary is created with every hash, and found again by any of them', async (t) => {
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e'
  const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
  const sandbox = await startSandbox(t)
  const { app } = await startApp(t, hmacEnv(sandbox.url))
  const created = await run(app, { indicator: `${md5} : ${sha256}`, create_indicator: true })
  t.equal(created.outputs['enrich.results.writeback.status'], 'written')
  const [file] = sandbox.app.sandbox.store.allIndicators()
  t.match(file?.values, { md5, sha256 }, 'both hashes on the one File')
  const byMd5 = await run(app, { indicator: md5 })
  t.equal(
    byMd5.outputs['enrich.results.writeback.indicator_id'],
    created.outputs['enrich.results.writeback.indicator_id'],
    'the md5 alone finds it',
  )
  t.equal(sandbox.app.sandbox.store.allIndicators().length, 1)
})
