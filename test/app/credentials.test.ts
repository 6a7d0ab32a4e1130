/**
 * Where credentials go. No request field chooses a host the service connects to: a listener on a host a request
 * names receives nothing, and every outbound call carrying a credential goes to the host configured for it.
 */
import t from 'tap'
import { createServer, type Server } from 'node:net'
import { startFakeVendor, type FakeVendor, type RecordedRequest } from '../helpers/fake-vendor.js'
import { startApp } from '../helpers/app.js'
import { runReply } from '../helpers/run-reply.js'
import { startSandbox, TOKEN } from '../platform/harness.js'
import { GOOD_KEY, startFakeVirustotal, vtBody } from '../sources/virustotal/fake-virustotal.js'

/** A TCP listener that only counts who connects (a host a request names; nothing may ever reach it). */
const startTrap = async (t: {
  teardown(fn: () => unknown): void
}): Promise<{ url: string; host: string; port: number; connections: () => number }> => {
  let count = 0
  const server: Server = createServer((socket) => {
    count += 1
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, host: '127.0.0.1', port, connections: () => count }
}

/** The configured ThreatConnect host: a recording front to the sandbox, so the test sees every header it got. */
const startRecordingPlatform = async (t: { teardown(fn: () => unknown): void }, token: string): Promise<FakeVendor> => {
  const sandbox = await startSandbox(t, { seed: [{ type: 'Address', value: '198.51.100.23' }], token })
  const front = await startFakeVendor(t)
  front.fallback(async (req: RecordedRequest) => {
    const res = await fetch(`${sandbox.url}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => k === 'authorization' || k === 'timestamp' || k === 'content-type'),
      ) as Record<string, string>,
      ...(req.body === '' ? {} : { body: req.body }),
    })
    return { status: res.status, json: await res.json() }
  })
  return front
}

const credentialOf = (req: RecordedRequest): string | undefined =>
  (req.headers['authorization'] as string | undefined) ?? (req.headers['x-apikey'] as string | undefined)

t.test('no request field can make the service connect to a host the request names', async (t) => {
  const trap = await startTrap(t)
  const platform = await startRecordingPlatform(t, TOKEN)
  const { app } = await startApp(t, { TC_API_PATH: platform.url, TC_TOKEN: TOKEN })
  const hostile: Record<string, unknown>[] = [
    { tc_api_path: trap.url },
    { tc_api_path: trap.url, tc_token: 'attacker-token' },
    { tc_api_access_id: 'x', tc_api_secret_key: 'y', tc_api_path: trap.url },
    {
      tc_kvstore_host: trap.host,
      tc_kvstore_port: String(trap.port),
      tc_playbook_kvstore_context: 'ctx',
      tc_playbook_out_variables: '#App:1:enrich.results.verdict!String',
    },
    { tc_profile: trap.url },
    { tc_profile: `${trap.host}:${trap.port}` },
  ]
  for (const extra of hostile) {
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: '198.51.100.23', write_note: true, ...extra },
    })
    t.equal(res.statusCode, 400, `refused: ${Object.keys(extra).join(', ')}`)
  }
  // Fields that are data, not destinations: the service never connects to what they name.
  const data = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: `${trap.url}/login`, owner: trap.url, write_note: true, create_indicator: true },
  })
  t.equal(data.statusCode, 502, 'the owner named is only an owner name: the platform says it does not exist')
  t.match(runReply(data).outputs['enrich.results.writeback.reason'], /Owner 'http:\/\/127\.0\.0\.1:\d+' does not exist/)
  t.equal(trap.connections(), 0, 'the listener on the request-named host received nothing')
  t.ok(platform.requests.length > 0, 'write-back went to the configured platform')
  t.ok(
    platform.requests.every((r) => r.headers['authorization'] === `TC-Token ${TOKEN}`),
    'with the configured token only',
  )
  t.notOk(JSON.stringify(platform.requests).includes('attacker-token'), 'a credential a request sent is never used')
})

t.test('every outbound call carrying a credential goes to the host configured for it', async (t) => {
  const trap = await startTrap(t)
  const platform = await startRecordingPlatform(t, TOKEN)
  const vt = await startFakeVirustotal(t)
  vt.object('/ip_addresses/198.51.100.23', vtBody('ip-malicious'))
  const { app } = await startApp(t, {
    TC_API_PATH: platform.url,
    TC_TOKEN: TOKEN,
    VIRUSTOTAL_BASE_URL: vt.baseUrl,
    VIRUSTOTAL_API_KEY: GOOD_KEY,
    VIRUSTOTAL_RATE_LIMIT: '100/1s',
  })
  const reply = runReply(
    await app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: '198.51.100.23', sources: 'virustotal|asn', write_note: true, apply_rating: true },
    }),
  )
  t.equal(reply.outputs['enrich.results.writeback.status'], 'written')
  // A per-request key (the component's keychain input) goes to the vendor's configured host, and only there.
  await app.inject({
    method: 'POST',
    url: '/run',
    payload: {
      indicator: '198.51.100.23',
      sources: 'virustotal',
      virustotal_api_key: 'caller-key-123',
      force_refresh: true,
    },
  })

  t.equal(trap.connections(), 0)
  const vendorCalls = vt.vendor.requests
  t.ok(vendorCalls.length >= 2)
  t.same(
    [...new Set(vendorCalls.map((r) => r.headers['x-apikey']))].sort(),
    ['caller-key-123', GOOD_KEY].sort(),
    'VirusTotal got its keys',
  )
  t.ok(
    vendorCalls.every((r) => r.headers['authorization'] === undefined),
    'and never the ThreatConnect credential',
  )
  t.ok(platform.requests.length > 0)
  t.ok(
    platform.requests.every((r) => credentialOf(r) === `TC-Token ${TOKEN}`),
    'ThreatConnect got its token, on every call',
  )
  t.notOk(JSON.stringify(platform.requests.map((r) => r.headers)).includes(GOOD_KEY), 'and never a vendor key')
})

t.test("named profiles: a request picks one by name; each profile's credentials go to its own host", async (t) => {
  const main = await startRecordingPlatform(t, 'main-token')
  const eu = await startRecordingPlatform(t, 'eu-token')
  const { app } = await startApp(t, {
    TC_API_PATH: main.url,
    TC_TOKEN: 'main-token',
    TC_PROFILES: 'eu',
    TC_PROFILE_EU_API_PATH: eu.url,
    TC_PROFILE_EU_TOKEN: 'eu-token',
  })
  const viaEu = runReply(
    await app.inject({
      method: 'POST',
      url: '/run',
      payload: { indicator: '198.51.100.23', write_note: true, tc_profile: 'eu' },
    }),
  )
  t.equal(viaEu.outputs['enrich.results.writeback.status'], 'written')
  t.equal(main.requests.length, 0, 'the default profile was not used')
  t.ok(eu.requests.length > 0 && eu.requests.every((r) => credentialOf(r) === 'TC-Token eu-token'))
  const viaMain = runReply(
    await app.inject({ method: 'POST', url: '/run', payload: { indicator: '198.51.100.23', write_note: true } }),
  )
  t.equal(viaMain.outputs['enrich.results.writeback.status'], 'written')
  t.ok(main.requests.length > 0 && main.requests.every((r) => credentialOf(r) === 'TC-Token main-token'))
  t.ok(
    eu.requests.every((r) => credentialOf(r) === 'TC-Token eu-token'),
    'no cross-over',
  )
})
