import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../../../src/datasets/ip-address.js'
import { type IpFamily } from '../../../src/datasets/ip-range-table.js'
import { RangeFileError, loadRangeFile, parseRangeCsv } from '../../../src/datasets/range-csv.js'
import { findRangeIndex, lookupRange } from '../../../src/datasets/range-lookup.js'
import { StringTable } from '../../../src/datasets/string-table.js'

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const parseFixture = (name: string, family: IpFamily, orgs = new StringTable()) =>
  parseRangeCsv(readFileSync(fixture(name)), family, orgs, name)
const v4 = (text: string): number[] => [parseIpv4(text)!]
const v6 = (text: string): Uint32Array => parseIpv6(text)!

t.test('address text <-> words', async (t) => {
  t.equal(parseIpv4('8.8.8.8'), 134744072)
  t.equal(parseIpv4('0.0.0.0'), 0)
  t.equal(parseIpv4('255.255.255.255'), 4294967295)
  for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.-4', '', 'a.b.c.d']) {
    t.equal(parseIpv4(bad), undefined, `rejects '${bad}'`)
  }
  t.equal(formatIpv4(4294967295), '255.255.255.255')
  t.equal(formatIpv4(134744072), '8.8.8.8')

  t.same([...v6('2001:4860:4860::8888')], [0x20014860, 0x48600000, 0, 0x8888])
  t.same([...v6('::')], [0, 0, 0, 0])
  t.same([...v6('::1')], [0, 0, 0, 1])
  t.same([...v6('::ffff:1.2.3.4')], [0, 0, 0xffff, 0x01020304])
  t.same([...v6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff])
  for (const bad of [
    '1::2::3',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '12345::',
    'g::',
    '::1.2.3',
    'fe80::1%eth0',
    '1.2.3.4',
    '1.2.3.4::',
    '::1.2.3.4:1',
  ]) {
    t.equal(parseIpv6(bad), undefined, `rejects '${bad}'`)
  }
  // RFC 5952: lower case, longest zero run compressed (the first of equal runs), a single zero group kept.
  t.equal(formatIpv6(v6('2001:0DB8:0000:0000:0000:0000:0000:0001')), '2001:db8::1')
  t.equal(formatIpv6(v6('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1')
  t.equal(formatIpv6(v6('2001:0:0:1:0:0:0:1')), '2001:0:0:1::1')
  t.equal(formatIpv6(v6('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1')
  t.equal(formatIpv6(v6('::')), '::')
  t.equal(formatIpv6(v6('1::')), '1::')
  t.equal(formatIpv6(v6('2001:500:30ff::2f')), '2001:500:30ff::2f')
})

t.test('parses the IPv4 fixture: quoted names, "" escapes, a blank trailing line', async (t) => {
  const orgs = new StringTable()
  const table = parseFixture('ipv4.csv', 4, orgs)
  t.equal(table.family, 4)
  t.equal(table.size, 7)
  t.equal(table.starts.length, 7)
  t.equal(table.overlaps, 0)
  t.same(lookupRange(table, v4('1.0.0.0')), { start: '1.0.0.0', end: '1.0.0.255', asn: 13335, org: 'Cloudflare, Inc.' })
  t.equal(lookupRange(table, v4('2.26.200.1'))?.org, 'LLC "SPUTNIK"')
  // Two rows share "Cloudflare, Inc.": interned once.
  t.equal(table.orgIds[0], table.orgIds[1])
  t.equal(orgs.size, 6)
})

t.test('lookups at range edges and in gaps', async (t) => {
  const table = parseFixture('ipv4.csv', 4)
  const asnAt = (ip: string): number | undefined => lookupRange(table, v4(ip))?.asn
  t.equal(asnAt('0.0.0.0'), undefined, 'before the first range')
  t.equal(asnAt('0.255.255.255'), undefined, 'just before the first range')
  t.equal(asnAt('1.0.0.0'), 13335, 'first address of the first range')
  t.equal(asnAt('1.0.0.255'), 13335, 'last address of a range')
  t.equal(asnAt('1.0.1.0'), 13335, 'first address of the adjacent range')
  t.equal(asnAt('1.0.1.255'), 13335)
  t.equal(asnAt('1.0.2.0'), undefined, 'gap after a range')
  t.equal(asnAt('1.0.3.255'), undefined, 'gap before a range')
  t.equal(asnAt('1.0.4.0'), 38803)
  t.equal(asnAt('1.0.7.255'), 38803)
  t.equal(asnAt('8.8.8.8'), 15169)
  t.equal(asnAt('10.0.0.1'), undefined)
  t.equal(asnAt('223.255.254.255'), 55415)
  t.equal(asnAt('223.255.255.0'), undefined)
  t.equal(asnAt('255.255.255.255'), 64512, 'the very last address')
  t.equal(findRangeIndex(table, v4('255.255.255.0')), 6)
  t.equal(findRangeIndex(table, v4('1.0.2.0')), -1)
})

t.test('dotted IPv4 fields and CRLF line ends', async (t) => {
  const table = parseFixture('ipv4-dotted-crlf.csv', 4)
  t.equal(table.size, 2)
  t.same(lookupRange(table, v4('8.8.8.8')), { start: '8.8.8.0', end: '8.8.8.255', asn: 15169, org: 'Google LLC' })
  t.equal(lookupRange(table, v4('1.0.0.7'))?.org, 'Cloudflare, Inc.')
})

t.test('IPv6: 128-bit numbers, ranges split inside a /64, edges', async (t) => {
  const table = parseFixture('ipv6.csv', 6)
  t.equal(table.size, 6)
  t.equal(table.starts.length, 24, 'four words per address')
  const at = (ip: string) => lookupRange(table, v6(ip))
  t.same(at('2001::1'), {
    start: '2001::',
    end: '2001:0:ffff:ffff:ffff:ffff:ffff:ffff',
    asn: 6939,
    org: 'Hurricane Electric LLC',
  })
  t.equal(at('2001:0:ffff:ffff:ffff:ffff:ffff:ffff')?.asn, 6939)
  t.equal(at('2001:1::'), undefined, 'gap')
  t.equal(at('2001:200:1ba::')?.org, 'Internet Systems Consortium, Inc.')
  // Three ASNs inside one /64: the lower 64 bits matter.
  t.equal(at('2001:500:30ff::')?.asn, 396585)
  t.equal(at('2001:500:30ff::2f')?.asn, 396585)
  t.equal(at('2001:500:30ff::30')?.asn, 396552)
  t.equal(at('2001:500:30ff::31'), undefined)
  t.equal(at('2001:db8::ffff:ffff:ffff:ffff')?.asn, 64496)
  t.equal(at('2001:db8:0:1::'), undefined)
  t.equal(at('::'), undefined)
  t.equal(at('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe'), undefined)
  t.equal(at('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')?.org, 'Last Address')
})

t.test('IPv6 address-text fields', async (t) => {
  const table = parseFixture('ipv6-text.csv', 6)
  t.equal(lookupRange(table, v6('2001:4860:4860::8888'))?.asn, 15169)
  t.equal(lookupRange(table, v6('2001:4861::')), undefined)
})

t.test('numbers, address text and quoted fields give the same table', async (t) => {
  // The -num rows take a fast path; rewriting them as quoted address text sends every row the general way.
  const quoteAll = (line: string, format: (n: string) => string): string => {
    const [start, end, asn] = line.split(',', 3) as [string, string, string]
    const org = line.slice(start.length + end.length + asn.length + 3)
    return `"${format(start)}","${format(end)}","${asn}",${org.startsWith('"') ? org : `"${org}"`}`
  }
  const same = (
    numbers: ReturnType<typeof parseFixture>,
    text: ReturnType<typeof parseFixture>,
    label: string,
  ): void => {
    t.equal(text.size, numbers.size, `${label}: size`)
    t.same([...text.starts], [...numbers.starts], `${label}: starts`)
    t.same([...text.ends], [...numbers.ends], `${label}: ends`)
    t.same([...text.asns], [...numbers.asns], `${label}: asns`)
    const names = (table: typeof numbers) => [...table.orgIds].map((id) => table.orgs.get(id))
    t.same(names(text), names(numbers), `${label}: names`)
  }
  const rewrite = (name: string, format: (n: string) => string): Buffer =>
    Buffer.from(
      readFileSync(fixture(name), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => quoteAll(line, format))
        .join('\n'),
    )
  const v4Text = parseRangeCsv(
    rewrite('ipv4.csv', (n) => formatIpv4(Number(n))),
    4,
    new StringTable(),
    'text',
  )
  same(parseFixture('ipv4.csv', 4), v4Text, 'IPv4')
  const toIpv6 = (n: string): string => {
    const big = BigInt(n)
    return formatIpv6([0, 1, 2, 3].map((i) => Number((big >> BigInt(96 - 32 * i)) & 0xffffffffn)))
  }
  const v6Text = parseRangeCsv(rewrite('ipv6.csv', toIpv6), 6, new StringTable(), 'text')
  same(parseFixture('ipv6.csv', 6), v6Text, 'IPv6')
})

t.test('one name table serves several files', async (t) => {
  const orgs = new StringTable()
  const a = parseFixture('ipv4-dotted-crlf.csv', 4, orgs)
  const b = parseFixture('ipv6-text.csv', 6, orgs)
  t.equal(orgs.size, 3, 'Cloudflare, Google, Hurricane Electric')
  t.equal(a.orgIds[1], b.orgIds[1], 'Google LLC has one id')
  orgs.trim()
  t.equal(orgs.get(a.orgIds[1]!), 'Google LLC', 'still readable after trim')
  t.equal(orgs.intern('Google LLC'), a.orgIds[1], 'still interning after trim')
  t.equal(orgs.intern('New Name'), 3)
  t.equal(orgs.get(3), 'New Name')
  t.throws(() => orgs.get(4), RangeError)
})

t.test('an empty name table can be trimmed and still interns', async (t) => {
  const orgs = new StringTable()
  orgs.trim()
  t.equal(orgs.intern('A'), 0)
  t.equal(orgs.intern('B'), 1)
  t.equal(orgs.intern('A'), 0)
  t.equal(orgs.get(1), 'B')
})

t.test('the name table grows past its first sizes and keeps UTF-8', async (t) => {
  const orgs = new StringTable()
  const names = Array.from({ length: 40000 }, (_, i) => `Org ${i} Société Générale ${'x'.repeat(i % 50)}`)
  const ids = names.map((n) => orgs.intern(n))
  t.equal(orgs.size, 40000)
  t.same(
    ids,
    names.map((_, i) => i),
  )
  t.equal(orgs.intern(names[12345]!), 12345)
  t.equal(orgs.get(39999), names[39999])
  t.ok(names.every((n, i) => orgs.get(i) === n))
})

t.test('a malformed file is an error naming the file and the line', async (t) => {
  const cases: Array<[string, IpFamily, number | undefined, RegExp]> = [
    ['ipv4-unterminated-quote.csv', 4, 3, /unterminated quoted field 4/],
    ['ipv4-missing-field.csv', 4, 2, /expected 4 fields, found 3/],
    ['ipv4-extra-field.csv', 4, 1, /expected 4 fields, found more/],
    ['ipv4-bad-start.csv', 4, 3, /start is not an IPv4 address or number/],
    ['ipv4-unsorted.csv', 4, 2, /not sorted by start/],
    ['ipv4-backwards.csv', 4, 1, /end is before start/],
    ['ipv4-big-asn.csv', 4, 1, /asn is not a whole number/],
    ['ipv6-too-big.csv', 6, 1, /start is not an IPv6 address or number/],
    ['empty.csv', 4, undefined, /no ranges/],
    ['ipv6.csv', 4, 1, /start is not an IPv4 address or number/],
  ]
  for (const [name, family, line, problem] of cases) {
    const err = t.throws(() => parseFixture(name, family), RangeFileError, name) as RangeFileError
    t.equal(err.file, name)
    t.equal(err.line, line, `${name}: line`)
    t.match(err.message, problem, `${name}: message`)
    if (line !== undefined) t.match(err.message, `${name}: line ${line}: `)
  }
})

t.test('quoting edge cases', async (t) => {
  const parse = (text: string) => parseRangeCsv(Buffer.from(text), 4, new StringTable(), 'inline.csv')
  t.equal(lookupRange(parse('1,2,3,""""\n'), [1])?.org, '"', 'a field that is one escaped quote')
  t.equal(lookupRange(parse('1,2,3,\n'), [1])?.org, '', 'an empty name')
  t.equal(lookupRange(parse('1,2,3,""\n'), [1])?.org, '', 'an empty quoted name')
  t.equal(lookupRange(parse('\ufeff1,2,3,A\n\n\n'), [2])?.org, 'A', 'byte order mark and several blank lines')
  t.equal(lookupRange(parse('"1","2","3","A"'), [2])?.asn, 3, 'quoted numbers, no final newline')
  t.throws(() => parse('1,2,3,"A"B\n'), /line 1: unexpected text after the closing quote of field 4/)
  t.equal(lookupRange(parse('"1",2,3,\n'), [1])?.org, '', 'a trailing comma is an empty last field (general path)')
  t.throws(() => parse('"1",2,3,A,\n'), /line 1: expected 4 fields, found more/)
  t.throws(() => parse('1,2,3\n4,x,5,B\n'), /line 1: expected 4 fields, found 3/)
  t.throws(() => parse('1,2,3,A\n4,x,5,B\n'), /line 2: end is not an IPv4 address or number/)
  const overlapping = parse('10,20,1,A\n15,30,2,B\n')
  t.equal(overlapping.overlaps, 1)
  t.equal(lookupRange(overlapping, [14])?.org, 'A')
  t.equal(lookupRange(overlapping, [15])?.org, 'B', 'the later row wins where rows overlap')
  t.equal(lookupRange(overlapping, [30])?.org, 'B')
})

t.test('loadRangeFile names a file it cannot read', async (t) => {
  const missing = fixture('no-such-file.csv')
  await t.rejects(loadRangeFile(missing, 4, new StringTable()), {
    name: 'RangeFileError',
    file: missing,
    line: undefined,
  })
  await t.rejects(loadRangeFile(missing, 4, new StringTable()), new RegExp(`${missing}: cannot read: .*ENOENT`))
  const table = await loadRangeFile(fixture('ipv4.csv'), 4, new StringTable())
  t.equal(table.size, 7)
})
