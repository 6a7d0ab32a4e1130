import t from 'tap'
import { classifyIndicator, classifySource, splitUrl } from '../../../src/sources/classify.js'
import { SourceError } from '../../../src/errors.js'
import { INDICATOR_TYPES, type Indicator, type IndicatorType } from '../../../src/indicators/types.js'
import type { FactValue, LookupContext } from '../../../src/sources/types.js'

const ind = (type: IndicatorType, value: string): Indicator => ({ input: value, value, type })

interface Case {
  readonly type: IndicatorType
  readonly value: string
  /** Facts that must be present with exactly these values (others may exist). */
  readonly facts: Record<string, FactValue>
  readonly tags: readonly string[]
  readonly summary: string
}

const CASES: readonly Case[] = [
  // Address: IPv4
  {
    type: 'Address',
    value: '8.8.8.8',
    facts: { ip_version: 4, range: 'unicast', is_public: true },
    tags: [],
    summary: 'public unicast IPv4',
  },
  {
    type: 'Address',
    value: '10.1.2.3',
    facts: { range: 'private', is_public: false },
    tags: ['private-address'],
    summary: 'private IPv4 (RFC 1918)',
  },
  {
    type: 'Address',
    value: '192.168.0.1',
    facts: { range: 'private', is_public: false },
    tags: ['private-address'],
    summary: 'private IPv4 (RFC 1918)',
  },
  {
    type: 'Address',
    value: '127.0.0.1',
    facts: { range: 'loopback', is_public: false },
    tags: ['loopback'],
    summary: 'loopback IPv4',
  },
  {
    type: 'Address',
    value: '169.254.1.1',
    facts: { range: 'linkLocal', is_public: false },
    tags: ['link-local'],
    summary: 'link-local IPv4 (RFC 3927)',
  },
  {
    type: 'Address',
    value: '100.64.0.1',
    facts: { range: 'carrierGradeNat', is_public: false },
    tags: ['reserved'],
    summary: 'carrier-grade NAT IPv4 (RFC 6598)',
  },
  {
    type: 'Address',
    value: '224.0.0.251',
    facts: { range: 'multicast', is_public: false },
    tags: ['multicast'],
    summary: 'multicast IPv4',
  },
  {
    type: 'Address',
    value: '0.0.0.0',
    facts: { range: 'unspecified', is_public: false },
    tags: ['reserved'],
    summary: 'unspecified IPv4',
  },
  {
    type: 'Address',
    value: '203.0.113.5',
    facts: { range: 'reserved', is_public: false },
    tags: ['reserved'],
    summary: 'reserved IPv4 (documentation, RFC 5737)',
  },
  {
    type: 'Address',
    value: '240.0.0.1',
    facts: { range: 'reserved', is_public: false },
    tags: ['reserved'],
    summary: 'reserved IPv4',
  },
  // Address: IPv6
  {
    type: 'Address',
    value: '2a00:1450:4001::1',
    facts: { ip_version: 6, range: 'unicast', is_public: true },
    tags: [],
    summary: 'public unicast IPv6',
  },
  {
    type: 'Address',
    value: '::1',
    facts: { ip_version: 6, range: 'loopback', is_public: false },
    tags: ['loopback'],
    summary: 'loopback IPv6',
  },
  {
    type: 'Address',
    value: 'fd00::1',
    facts: { range: 'uniqueLocal', is_public: false },
    tags: ['private-address'],
    summary: 'unique local IPv6 (RFC 4193)',
  },
  {
    type: 'Address',
    value: 'fe80::1',
    facts: { range: 'linkLocal', is_public: false },
    tags: ['link-local'],
    summary: 'link-local IPv6 (RFC 4291)',
  },
  {
    type: 'Address',
    value: '2001:db8::1',
    facts: { range: 'reserved', is_public: false },
    tags: ['reserved'],
    summary: 'reserved IPv6 (documentation, RFC 3849)',
  },
  {
    type: 'Address',
    value: '2002:c000:204::1',
    facts: { range: '6to4', is_public: true },
    tags: [],
    summary: '6to4 IPv6',
  },
  {
    type: 'Address',
    value: '::ffff:10.0.0.1',
    facts: { range: 'ipv4Mapped', mapped_ipv4: '10.0.0.1', is_public: false },
    tags: ['private-address'],
    summary: 'IPv4-mapped IPv6 of private IPv4 (RFC 1918)',
  },
  {
    type: 'Address',
    value: '::ffff:8.8.8.8',
    facts: { range: 'ipv4Mapped', mapped_ipv4: '8.8.8.8', is_public: true },
    tags: [],
    summary: 'IPv4-mapped IPv6 of public unicast IPv4',
  },
  // CIDR
  {
    type: 'CIDR',
    value: '8.8.8.0/24',
    facts: { ip_version: 4, range: 'unicast', is_public: true, prefix: 24, address_count: 256 },
    tags: [],
    summary: 'public unicast IPv4 network /24 of 256 addresses',
  },
  {
    type: 'CIDR',
    value: '10.0.0.0/8',
    facts: { range: 'private', is_public: false, prefix: 8, address_count: 16777216 },
    tags: ['private-address'],
    summary: 'private IPv4 network /8 of 16777216 addresses (RFC 1918)',
  },
  {
    type: 'CIDR',
    value: '10.1.2.3/32',
    facts: { range: 'private', prefix: 32, address_count: 1 },
    tags: ['private-address'],
    summary: 'private IPv4 network /32 of 1 address (RFC 1918)',
  },
  // 10.0.0.0/7 is half private (10/8), half public (11/8); 0/0 holds everything; 8.0.0.0/6 holds 10/8 inside it
  {
    type: 'CIDR',
    value: '10.0.0.0/7',
    facts: { range: 'mixed', is_public: null, prefix: 7 },
    tags: [],
    summary: 'mixed-range IPv4 network /7 of 33554432 addresses',
  },
  {
    type: 'CIDR',
    value: '0.0.0.0/0',
    facts: { range: 'mixed', is_public: null, address_count: 4294967296 },
    tags: [],
    summary: 'mixed-range IPv4 network /0 of 4294967296 addresses',
  },
  {
    type: 'CIDR',
    value: '8.0.0.0/6',
    facts: { range: 'mixed', is_public: null },
    tags: [],
    summary: 'mixed-range IPv4 network /6 of 67108864 addresses',
  },
  {
    type: 'CIDR',
    value: '2001:db8::/32',
    facts: {
      ip_version: 6,
      range: 'reserved',
      is_public: false,
      prefix: 32,
      address_count: '79228162514264337593543950336',
    },
    tags: ['reserved'],
    summary: 'reserved IPv6 network /32 of 79228162514264337593543950336 addresses (documentation, RFC 3849)',
  },
  {
    type: 'CIDR',
    value: '2a00:1450::/32',
    facts: { ip_version: 6, range: 'unicast', is_public: true, prefix: 32 },
    tags: [],
    summary: 'public unicast IPv6 network /32 of 79228162514264337593543950336 addresses',
  },
  {
    type: 'CIDR',
    value: '2a00:1450:4001:81c::/64',
    facts: { prefix: 64, address_count: '18446744073709551616' },
    tags: [],
    summary: 'public unicast IPv6 network /64 of 18446744073709551616 addresses',
  },
  {
    type: 'CIDR',
    value: '2a00:1450:4001:81c::/96',
    facts: { prefix: 96, address_count: 4294967296 },
    tags: [],
    summary: 'public unicast IPv6 network /96 of 4294967296 addresses',
  },
  {
    type: 'CIDR',
    value: '::/0',
    facts: { range: 'mixed', address_count: '340282366920938463463374607431768211456' },
    tags: [],
    summary: 'mixed-range IPv6 network /0 of 340282366920938463463374607431768211456 addresses',
  },
  // Host
  {
    type: 'Host',
    value: 'www.example.co.uk',
    facts: { registrable_domain: 'example.co.uk', public_suffix: 'co.uk', subdomain: 'www', is_icann: true },
    tags: [],
    summary: 'registrable domain example.co.uk (suffix co.uk)',
  },
  {
    type: 'Host',
    value: 'example.com',
    facts: { registrable_domain: 'example.com', public_suffix: 'com', subdomain: null, is_icann: true },
    tags: [],
    summary: 'registrable domain example.com (suffix com)',
  },
  {
    type: 'Host',
    value: 'xn--bcher-kva.de',
    facts: { registrable_domain: 'xn--bcher-kva.de', public_suffix: 'de' },
    tags: [],
    summary: 'registrable domain xn--bcher-kva.de (suffix de)',
  },
  {
    type: 'Host',
    value: 'a.b.evil.example',
    facts: { registrable_domain: 'evil.example', public_suffix: 'example', subdomain: 'a.b', is_icann: false },
    tags: [],
    summary: 'registrable domain evil.example (suffix example, not an ICANN suffix)',
  },
  {
    type: 'Host',
    value: 'co.uk',
    facts: { registrable_domain: null, public_suffix: 'co.uk', is_icann: true },
    tags: [],
    summary: 'no registrable domain (suffix co.uk)',
  },
  // URL
  {
    type: 'URL',
    value: 'https://www.example.com',
    facts: {
      url_scheme: 'https',
      url_host: 'www.example.com',
      url_port: null,
      url_path: '/',
      has_query: false,
      registrable_domain: 'example.com',
      public_suffix: 'com',
    },
    tags: [],
    summary: 'https URL on registrable domain example.com (suffix com)',
  },
  {
    type: 'URL',
    value: 'http://login.bad.example:8080/a/B%20c?u=1#frag',
    facts: {
      url_scheme: 'http',
      url_host: 'login.bad.example',
      url_port: 8080,
      url_path: '/a/B%20c',
      has_query: true,
      registrable_domain: 'bad.example',
    },
    tags: [],
    summary: 'http URL on registrable domain bad.example (suffix example, not an ICANN suffix)',
  },
  {
    type: 'URL',
    value: 'http://user:pw@10.0.0.5/x',
    facts: { url_host: '10.0.0.5', url_path: '/x', range: 'private', is_public: false },
    tags: ['private-address'],
    summary: 'http URL on private IPv4 (RFC 1918)',
  },
  {
    type: 'URL',
    value: 'https://[2001:db8::1]:8443/',
    facts: { url_host: '2001:db8::1', url_port: 8443, range: 'reserved', ip_version: 6 },
    tags: ['reserved'],
    summary: 'https URL on reserved IPv6 (documentation, RFC 3849)',
  },
  // EmailAddress
  {
    type: 'EmailAddress',
    value: 'bob.smith@mail.example.co.uk',
    facts: {
      local_part: 'bob.smith',
      email_domain: 'mail.example.co.uk',
      registrable_domain: 'example.co.uk',
      public_suffix: 'co.uk',
    },
    tags: [],
    summary: 'email address at mail.example.co.uk: registrable domain example.co.uk (suffix co.uk)',
  },
  // File
  {
    type: 'File',
    value: '44d88612fea8a8f36de82e1278abb02f',
    facts: { hash_kind: 'md5' },
    tags: [],
    summary: 'md5 hash',
  },
  {
    type: 'File',
    value: '3395856ce81f2b7382dee72602f798b642f14140',
    facts: { hash_kind: 'sha1' },
    tags: [],
    summary: 'sha1 hash',
  },
  {
    type: 'File',
    value: '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
    facts: { hash_kind: 'sha256' },
    tags: [],
    summary: 'sha256 hash',
  },
  { type: 'File', value: 'a'.repeat(128), facts: { hash_kind: 'sha512' }, tags: [], summary: 'sha512 hash' },
  {
    type: 'File',
    value: 'a'.repeat(48),
    facts: { hash_kind: null },
    tags: [],
    summary: 'hash of unrecognised length (48 characters)',
  },
  // ASN
  {
    type: 'ASN',
    value: 'ASN15169',
    facts: { asn_number: 15169, asn_range: 'public', is_public: true },
    tags: [],
    summary: 'public ASN 15169',
  },
  {
    type: 'ASN',
    value: 'ASN64512',
    facts: { asn_number: 64512, asn_range: 'private', is_public: false },
    tags: ['private-asn'],
    summary: 'private-use ASN 64512 (RFC 6996)',
  },
  {
    type: 'ASN',
    value: 'ASN4200000001',
    facts: { asn_number: 4200000001, asn_range: 'private' },
    tags: ['private-asn'],
    summary: 'private-use ASN 4200000001 (RFC 6996)',
  },
  {
    type: 'ASN',
    value: 'ASN64500',
    facts: { asn_range: 'documentation', is_public: false },
    tags: ['reserved'],
    summary: 'documentation ASN 64500 (RFC 5398)',
  },
  {
    type: 'ASN',
    value: 'ASN23456',
    facts: { asn_range: 'reserved' },
    tags: ['reserved'],
    summary: 'reserved ASN 23456 (AS_TRANS, RFC 6793)',
  },
]

t.test('every indicator type is in the table', async (t) => {
  t.same([...new Set(CASES.map((c) => c.type))].sort(), [...INDICATOR_TYPES].sort())
})

t.test('classifyIndicator table', async (t) => {
  for (const c of CASES) {
    const f = classifyIndicator(ind(c.type, c.value))
    t.match(f.facts, c.facts, `${c.type} ${c.value}: facts`)
    for (const [key, want] of Object.entries(c.facts)) t.same(f.facts[key], want, `${c.type} ${c.value}: ${key}`)
    t.same(f.tags, c.tags, `${c.type} ${c.value}: tags`)
    t.equal(f.summary, c.summary, `${c.type} ${c.value}: summary`)
    // Facts are context, never a verdict.
    t.equal(f.verdict, 'unknown')
    t.equal(f.score, null)
    t.equal(f.confidence, null)
  }
})

t.test('facts only carry what fits the type', async (t) => {
  t.notOk('registrable_domain' in classifyIndicator(ind('Address', '8.8.8.8')).facts)
  t.notOk('range' in classifyIndicator(ind('Host', 'example.com')).facts)
  t.notOk('prefix' in classifyIndicator(ind('Address', '8.8.8.8')).facts)
  t.same(Object.keys(classifyIndicator(ind('File', 'a'.repeat(32))).facts), ['hash_kind'])
})

t.test('splitUrl keeps the path as written and finds port and query', async (t) => {
  t.same(splitUrl('ftp://files.example/pub/../x'), {
    scheme: 'ftp',
    host: 'files.example',
    port: null,
    path: '/pub/../x',
    hasQuery: false,
  })
  t.same(splitUrl('http://h.example?'), { scheme: 'http', host: 'h.example', port: null, path: '/', hasQuery: false })
  t.same(splitUrl('http://h.example:81?q'), { scheme: 'http', host: 'h.example', port: 81, path: '/', hasQuery: true })
  t.equal(splitUrl('not a url'), undefined)
})

t.test('classifySource: declaration and instance', async (t) => {
  t.equal(classifySource.id, 'classify')
  t.equal(classifySource.kind, 'embedded')
  t.same([...classifySource.supports].sort(), [...INDICATOR_TYPES].sort())
  t.same(classifySource.settings, [])
  // Every published output is a fact key some type produces.
  const produced = new Set(CASES.flatMap((c) => Object.keys(classifyIndicator(ind(c.type, c.value)).facts)))
  for (const { key } of classifySource.outputs) t.ok(produced.has(key), `output ${key} is produced`)

  const instance = await classifySource.start({} as never, {} as never)
  t.equal(instance.health().state, 'ready')
  const ctx = {
    signal: new AbortController().signal,
    forceRefresh: false,
    deadlineAt: Date.now() + 60_000,
    keyPrint: 'test',
    settings: {},
  } as unknown as LookupContext
  const finding = await instance.lookup(ind('Address', '10.0.0.1'), ctx)
  t.equal(finding.facts['range'], 'private')
  // A value not in canonical form is a source failure, not a crash.
  const err = await instance.lookup(ind('Address', 'not-an-ip'), ctx).catch((e: unknown) => e)
  t.type(err, SourceError)
  t.equal((err as SourceError).kind, 'internal')
  t.match((err as SourceError).message, /not-an-ip/)
})
