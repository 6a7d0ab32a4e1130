import t from 'tap'
import { ACCESS_ID, SECRET_KEY, TOKEN, closedPortUrl, startSandbox } from '../platform/harness.js'
import { startApp } from '../helpers/app.js'

interface RunReply {
  exitCode: number
  exitMessage: string
  outputs: Record<string, string | (string | null)[]>
}

const hmacEnv = (url: string): Record<string, string> => ({ TC_API_PATH: url, TC_API_ACCESS_ID: ACCESS_ID, TC_API_SECRET_KEY: SECRET_KEY })

const run = async (app: Awaited<ReturnType<typeof startApp>>['app'], payload: Record<string, unknown>): Promise<RunReply> => {
  const res = await app.inject({ method: 'POST', url: '/run', payload })
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${res.body}`)
  return res.json<RunReply>()
}

t.test('the note is written onto the indicator; a retry does not post it twice', async (t) => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: '203.0.113.9' }] })
  const { app } = await startApp(t, hmacEnv(sandbox.url), { now: () => new Date('2026-11-23T10:00:00Z') })
  const first = await run(app, { indicator: '203.0.113.9' })
  t.equal(first.exitCode, 0)
  t.equal(first.outputs['enrich.writeback.status'], 'written')
  const indicatorId = Number(first.outputs['enrich.indicator.id'])
  const posts = sandbox.app.sandbox.store.postsFor(indicatorId)
  t.equal(posts.length, 1)
  t.equal(String(posts[0]?.id), first.outputs['enrich.note.id'])
  t.equal(posts[0]?.text, first.outputs['enrich.note'], 'the note posted is the note returned')
  t.match(posts[0]?.text, /\*\*Verdict: malicious\*\*/)

  const again = await run(app, { indicator: '203.0.113.9' })
  t.equal(again.outputs['enrich.writeback.status'], 'written')
  t.match(again.outputs['enrich.writeback.reason'], /already/)
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
  t.equal(reply.outputs['enrich.writeback.status'], 'written')
  const ind = sandbox.app.sandbox.store.indicator(Number(reply.outputs['enrich.indicator.id']))
  t.equal(ind?.rating, Number(reply.outputs['enrich.threat_rating']))
  t.equal(ind?.rating, 5)
  t.equal(ind?.confidence, Number(reply.outputs['enrich.confidence']))
  t.same(ind?.tags.slice().sort(), ['c2', 'existing'], 'tags appended')
  t.match(ind?.attributes.find((a) => a.type === 'Description')?.value, /malicious/)
})

t.test('a missing indicator: reported (exitCode 1), or created when asked; outputs come back either way', async (t) => {
  const sandbox = await startSandbox(t)
  const { app } = await startApp(t, hmacEnv(sandbox.url))
  const missing = await run(app, { indicator: '198.51.100.7' })
  t.equal(missing.exitCode, 1)
  t.equal(missing.outputs['enrich.writeback.status'], 'failed')
  t.match(missing.outputs['enrich.writeback.reason'], /not found/)
  t.match(missing.exitMessage, /^write-back failed for 1 of 1: /)
  t.equal(missing.outputs['enrich.verdict'], 'suspicious', 'the enrichment is not lost')
  t.equal(sandbox.app.sandbox.store.allIndicators().length, 0)

  const created = await run(app, { indicator: '198.51.100.7', create_indicator: true })
  t.equal(created.exitCode, 0)
  t.equal(created.outputs['enrich.writeback.status'], 'written')
  t.equal(sandbox.app.sandbox.store.allIndicators().length, 1)
})

t.test('bad credentials and a platform that is down: failed write-back with a clear reason', async (t) => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: '8.8.8.8' }] })
  const bad = await startApp(t, { TC_API_PATH: sandbox.url, TC_API_ACCESS_ID: ACCESS_ID, TC_API_SECRET_KEY: 'wrong-secret' })
  const r1 = await run(bad.app, { indicator: '8.8.8.8' })
  t.equal(r1.exitCode, 1)
  t.equal(r1.outputs['enrich.writeback.status'], 'failed')
  t.match(r1.outputs['enrich.writeback.reason'], /ThreatConnect rejected the credentials \(HTTP 401\)/)
  t.equal(r1.outputs['enrich.verdict'], 'benign')
  t.notOk(JSON.stringify(bad.logs).includes('wrong-secret'), 'the secret never reaches the logs')

  const down = await startApp(t, hmacEnv(await closedPortUrl()))
  const r2 = await run(down.app, { indicator: '8.8.8.8' })
  t.equal(r2.exitCode, 1)
  t.equal(r2.outputs['enrich.writeback.status'], 'failed')
  t.match(r2.outputs['enrich.writeback.reason'], /ECONNREFUSED/)
  t.equal(r2.outputs['enrich.asn.number'], '15169')
})

t.test('request params override the service settings; no platform or write_note false: skipped, exitCode 0', async (t) => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: '8.8.8.8' }] })
  const { app } = await startApp(t)
  const none = await run(app, { indicator: '8.8.8.8' })
  t.equal(none.exitCode, 0)
  t.equal(none.outputs['enrich.writeback.status'], 'skipped')
  t.match(none.outputs['enrich.writeback.reason'], /not configured/)
  const off = await run(app, { indicator: '8.8.8.8', write_note: false, tc_api_path: sandbox.url, tc_token: TOKEN })
  t.equal(off.outputs['enrich.writeback.status'], 'skipped')
  t.equal(off.outputs['enrich.writeback.reason'], 'write_note is false')
  const per = await run(app, { indicator: '8.8.8.8', tc_api_path: sandbox.url, tc_token: TOKEN })
  t.equal(per.outputs['enrich.writeback.status'], 'written', 'per-request platform params')
})

t.test('an array of indicators: one write-back result per indicator', async (t) => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: '8.8.8.8' }] })
  const { app } = await startApp(t, hmacEnv(sandbox.url))
  const reply = await run(app, { indicator: ['8.8.8.8', '1.1.1.1'] })
  t.same(reply.outputs['enrich.writeback.status'], ['written', 'failed'])
  t.equal((reply.outputs['enrich.note.id'] as unknown[])[1], null)
  t.equal(reply.exitCode, 1)
})
