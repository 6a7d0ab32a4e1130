/**
 * classify: facts computed locally, with no data file and no network — address ranges (ipaddr.js), registrable
 * domain and public suffix (tldts), hash kind, URL parts, ASN range. Facts are context: the verdict is always
 * 'unknown', because being public, or on a known suffix, says nothing about being benign.
 */
import { hashKindOf } from '../indicators/file-hash.js'
import ipaddr from 'ipaddr.js'
import { parse as parseDomain } from 'tldts'
import { INDICATOR_TYPES, type Indicator } from '../indicators/types.js'
import type { FactValue, Finding, SourceDefinition, SourceInstance } from './types.js'
import { answeringInstance } from './answering-instance.js'

type Ip = ipaddr.IPv4 | ipaddr.IPv6
type Facts = Record<string, FactValue>

/** What classify worked out: facts plus the tags and the one-line summary derived from them. */
interface Classification {
  readonly facts: Facts
  readonly tags: readonly string[]
  readonly summary: string
}

// ---------------------------------------------------------------------------------------------- addresses

/** Ranges whose addresses are reachable on the public internet (everything else is local, special or unusable). */
const PUBLIC_RANGES: ReadonlySet<string> = new Set(['unicast', '6to4', 'teredo', 'amt', 'as112', 'as112v6'])

/** A CIDR block that covers parts of several ranges (e.g. 0.0.0.0/0). */
const MIXED_RANGE = 'mixed'

const RANGE_LABELS: Readonly<Record<string, string>> = {
  unicast: 'public unicast',
  private: 'private',
  uniqueLocal: 'unique local',
  loopback: 'loopback',
  linkLocal: 'link-local',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  carrierGradeNat: 'carrier-grade NAT',
  reserved: 'reserved',
  benchmarking: 'benchmarking',
  ipv4Mapped: 'IPv4-mapped',
  teredo: 'Teredo',
  '6to4': '6to4',
  amt: 'AMT',
  as112: 'AS112',
  as112v6: 'AS112',
  [MIXED_RANGE]: 'mixed-range',
}

/** The RFC behind a range, for the summary; documentation ranges are named apart from other reserved space. */
const RANGE_NOTES: Readonly<Record<string, string>> = {
  'ipv4:private': 'RFC 1918',
  'ipv4:carrierGradeNat': 'RFC 6598',
  'ipv4:linkLocal': 'RFC 3927',
  'ipv6:uniqueLocal': 'RFC 4193',
  'ipv6:linkLocal': 'RFC 4291',
}

const DOCUMENTATION_BLOCKS: readonly { readonly cidr: [Ip, number]; readonly note: string }[] = [
  { cidr: ipaddr.parseCIDR('192.0.2.0/24'), note: 'documentation, RFC 5737' },
  { cidr: ipaddr.parseCIDR('198.51.100.0/24'), note: 'documentation, RFC 5737' },
  { cidr: ipaddr.parseCIDR('203.0.113.0/24'), note: 'documentation, RFC 5737' },
  { cidr: ipaddr.parseCIDR('2001:db8::/32'), note: 'documentation, RFC 3849' },
  { cidr: ipaddr.parseCIDR('3fff::/20'), note: 'documentation, RFC 9637' },
]

const noteFor = (ip: Ip, prefix: number, range: string): string | undefined => {
  const doc = DOCUMENTATION_BLOCKS.find(
    (d) => d.cidr[0].kind() === ip.kind() && d.cidr[1] <= prefix && ip.match(d.cidr),
  )
  return doc?.note ?? RANGE_NOTES[`${ip.kind()}:${range}`]
}

const tagsForRange = (range: string): string[] => {
  if (PUBLIC_RANGES.has(range) || range === MIXED_RANGE) return []
  switch (range) {
    case 'private':
    case 'uniqueLocal':
      return ['private-address']
    case 'loopback':
      return ['loopback']
    case 'linkLocal':
      return ['link-local']
    case 'multicast':
      return ['multicast']
    default:
      return ['reserved']
  }
}

const versionOf = (ip: Ip): 4 | 6 => (ip.kind() === 'ipv4' ? 4 : 6)

/** ipaddr.js keeps its range table on the prototype; the CIDR check below needs every block, not just a match. */
type RangeTable = Record<string, [Ip, number] | [Ip, number][]>
const rangeBlocks = (ip: Ip): { name: string; block: [Ip, number] }[] => {
  const table = (ip as unknown as { SpecialRanges: RangeTable }).SpecialRanges
  return Object.entries(table).flatMap(([name, blocks]) =>
    (Array.isArray(blocks[0]) ? (blocks as [Ip, number][]) : [blocks as [Ip, number]]).map((block) => ({
      name,
      block,
    })),
  )
}

/**
 * The range a whole CIDR block lies in, or 'mixed' when it straddles ranges: the block's network must sit in a
 * range block at least as large as itself, and no smaller block of another range may sit inside it.
 */
const rangeOfBlock = (network: Ip, prefix: number): string => {
  const blocks = rangeBlocks(network)
  const range = network.range()
  const home = blocks.find((b) => b.name === range && network.match(b.block))
  if (home !== undefined && home.block[1] > prefix) return MIXED_RANGE
  const straddled = blocks.some(
    (b) =>
      b.name !== range &&
      b.block[1] > prefix &&
      b.block[0].kind() === network.kind() &&
      b.block[0].match(network, prefix),
  )
  return straddled ? MIXED_RANGE : range
}

const addressFacts = (ip: Ip, range: string): Facts => {
  const facts: Facts = {
    ip_version: versionOf(ip),
    range,
    is_public: range === MIXED_RANGE ? null : PUBLIC_RANGES.has(range),
  }
  // An IPv4-mapped IPv6 address is as public as the IPv4 address inside it.
  if (ip.kind() === 'ipv6' && range === 'ipv4Mapped') {
    const inner = (ip as ipaddr.IPv6).toIPv4Address()
    facts['mapped_ipv4'] = inner.toString()
    facts['is_public'] = PUBLIC_RANGES.has(inner.range())
  }
  return facts
}

/** "private IPv4" + what + " (RFC 1918)". */
const describeRange = (ip: Ip, prefix: number, range: string, what = ''): string => {
  const note = range === MIXED_RANGE ? undefined : noteFor(ip, prefix, range)
  return `${RANGE_LABELS[range] ?? range} IPv${versionOf(ip)}${what}${note === undefined ? '' : ` (${note})`}`
}

const classifyAddress = (value: string): Classification => {
  const ip = ipaddr.parse(value)
  const range = ip.range()
  const facts = addressFacts(ip, range)
  if (ip instanceof ipaddr.IPv6 && range === 'ipv4Mapped') {
    // Tagged and described by the IPv4 address it carries.
    const inner = classifyAddress(ip.toIPv4Address().toString())
    return { facts, tags: inner.tags, summary: `IPv4-mapped IPv6 of ${inner.summary}` }
  }
  const bits = ip.kind() === 'ipv4' ? 32 : 128
  return { facts, tags: tagsForRange(range), summary: describeRange(ip, bits, range) }
}

/** 2^(bits - prefix): a number while it is exact, else a decimal string (a /0 of IPv6 has 2^128 addresses). */
const addressCount = (bits: number, prefix: number): number | string => {
  const count = 2n ** BigInt(bits - prefix)
  return count <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(count) : count.toString()
}

const classifyCidr = (value: string): Classification => {
  const [ip, prefix] = ipaddr.parseCIDR(value)
  const bits = ip.kind() === 'ipv4' ? 32 : 128
  const network =
    ip.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(value) : ipaddr.IPv6.networkAddressFromCIDR(value)
  const range = rangeOfBlock(network, prefix)
  const count = addressCount(bits, prefix)
  return {
    facts: { ...addressFacts(network, range), prefix, address_count: count },
    tags: tagsForRange(range),
    summary: describeRange(network, prefix, range, ` network /${prefix} of ${count} address${count === 1 ? '' : 'es'}`),
  }
}

// ------------------------------------------------------------------------------------------------ domains

const domainFacts = (host: string): Facts => {
  const parsed = parseDomain(host, { extractHostname: false })
  return {
    registrable_domain: parsed.domain,
    public_suffix: parsed.publicSuffix,
    subdomain: parsed.subdomain === '' ? null : parsed.subdomain,
    // false also when the suffix is unknown (tldts then falls back to the last label, e.g. "example").
    is_icann: parsed.isIcann ?? false,
  }
}

const describeDomain = (facts: Facts): string => {
  const unlisted = facts['is_icann'] === true ? '' : ', not an ICANN suffix'
  return facts['registrable_domain'] === null
    ? `no registrable domain (suffix ${String(facts['public_suffix'])}${unlisted})`
    : `registrable domain ${String(facts['registrable_domain'])} (suffix ${String(facts['public_suffix'])}${unlisted})`
}

/** A host part that may be an IP literal ("10.0.0.1", "[2001:db8::1]") or a name. */
const classifyHostPart = (host: string): Classification => {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (ipaddr.isValid(bare)) return classifyAddress(bare)
  const facts = domainFacts(bare)
  return { facts, tags: [], summary: describeDomain(facts) }
}

// ------------------------------------------------------------------------------------------ other types

/** scheme://[userinfo@]host[:port][path][?query][#fragment], the path kept as written. */
const URL_PATTERN = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/is

interface UrlParts {
  readonly scheme: string
  readonly host: string
  readonly port: number | null
  readonly path: string
  readonly hasQuery: boolean
}

export const splitUrl = (url: string): UrlParts | undefined => {
  const m = URL_PATTERN.exec(url)
  if (m === null) return undefined
  const authority = m[2] ?? ''
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1)
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostPort)
  if (hp === null) return undefined
  const host = hp[1] ?? ''
  return {
    scheme: (m[1] ?? '').toLowerCase(),
    host: host.startsWith('[') ? host.slice(1, -1) : host,
    port: hp[2] === undefined || hp[2] === '' ? null : Number(hp[2]),
    path: m[3] === undefined || m[3] === '' ? '/' : m[3],
    hasQuery: m[4] !== undefined && m[4] !== '',
  }
}

const classifyUrl = (value: string): Classification => {
  const parts = splitUrl(value)
  if (parts === undefined) return { facts: {}, tags: [], summary: 'URL that could not be split into parts' }
  const host = parts.host.includes(':') ? `[${parts.host}]` : parts.host
  const about = classifyHostPart(host)
  return {
    facts: {
      url_scheme: parts.scheme,
      url_host: parts.host,
      url_port: parts.port,
      url_path: parts.path,
      has_query: parts.hasQuery,
      ...about.facts,
    },
    tags: about.tags,
    summary: `${parts.scheme} URL on ${about.summary}`,
  }
}

const classifyEmail = (value: string): Classification => {
  const at = value.lastIndexOf('@')
  const domain = value.slice(at + 1)
  const about = classifyHostPart(domain)
  return {
    facts: { local_part: value.slice(0, at), email_domain: domain, ...about.facts },
    tags: about.tags,
    summary: `email address at ${domain}: ${about.summary}`,
  }
}

const classifyFile = (value: string): Classification => {
  const kind = hashKindOf(value)
  return {
    facts: { hash_kind: kind ?? null },
    tags: [],
    summary: kind === undefined ? `hash of unrecognised length (${value.length} characters)` : `${kind} hash`,
  }
}

/** IANA AS number registry: special-purpose blocks; everything else is assignable public space. */
const ASN_RANGES: readonly {
  readonly from: number
  readonly to: number
  readonly range: string
  readonly note: string
}[] = [
  { from: 0, to: 0, range: 'reserved', note: 'RFC 7607' },
  { from: 23456, to: 23456, range: 'reserved', note: 'AS_TRANS, RFC 6793' },
  { from: 64496, to: 64511, range: 'documentation', note: 'RFC 5398' },
  { from: 64512, to: 65534, range: 'private', note: 'RFC 6996' },
  { from: 65535, to: 65535, range: 'reserved', note: 'RFC 7300' },
  { from: 65536, to: 65551, range: 'documentation', note: 'RFC 5398' },
  { from: 65552, to: 131071, range: 'reserved', note: 'IANA reserved' },
  { from: 4200000000, to: 4294967294, range: 'private', note: 'RFC 6996' },
  { from: 4294967295, to: 4294967295, range: 'reserved', note: 'RFC 7300' },
]

const classifyAsn = (value: string): Classification => {
  const digits = /^AS(?:N)?(\d+)$/i.exec(value)?.[1]
  if (digits === undefined) return { facts: { asn_number: null }, tags: [], summary: 'ASN that could not be read' }
  const n = Number(digits)
  const special = ASN_RANGES.find((r) => n >= r.from && n <= r.to)
  const range = special?.range ?? 'public'
  return {
    facts: { asn_number: n, asn_range: range, is_public: range === 'public' },
    tags: special === undefined ? [] : [range === 'private' ? 'private-asn' : 'reserved'],
    summary:
      special === undefined
        ? `public ASN ${n}`
        : `${range === 'private' ? 'private-use' : range} ASN ${n} (${special.note})`,
  }
}

// ------------------------------------------------------------------------------------------------ source

const classifyByType = (indicator: Indicator): Classification => {
  switch (indicator.type) {
    case 'Address':
      return classifyAddress(indicator.value)
    case 'CIDR':
      return classifyCidr(indicator.value)
    case 'Host':
      return classifyHostPart(indicator.value)
    case 'URL':
      return classifyUrl(indicator.value)
    case 'EmailAddress':
      return classifyEmail(indicator.value)
    case 'File':
      return classifyFile(indicator.value)
    case 'ASN':
      return classifyAsn(indicator.value)
  }
}

/** Pure: the finding for a canonical indicator. Throws only if the value is not in its type's canonical form. */
export const classifyIndicator = (indicator: Indicator): Finding => {
  const { facts, tags, summary } = classifyByType(indicator)
  return { verdict: 'unknown', score: null, confidence: null, tags, summary, facts, raw: null }
}

export const classifySource: SourceDefinition = {
  id: 'classify',
  title: 'Local classification',
  kind: 'embedded',
  description:
    'Facts computed locally: private, reserved or loopback ranges, registrable domain and public suffix, hash kind, URL parts. Context only.',
  supports: INDICATOR_TYPES,
  outputs: [
    { key: 'range', type: 'String', note: 'Classify: address range (unicast, private, loopback, reserved, ...).' },
    { key: 'is_public', type: 'String', note: 'Classify: "true" when the address is publicly routable.' },
    { key: 'registrable_domain', type: 'String', note: 'Classify: registrable domain of a host, URL or email.' },
    { key: 'hash_kind', type: 'String', note: 'Classify: md5, sha1, sha256 or sha512.' },
  ],
  settings: [],
  start: async (): Promise<SourceInstance> =>
    answeringInstance(
      () => ({ state: 'ready', detail: 'computed locally (ipaddr.js ranges, tldts public suffix list)' }),
      classifyIndicator,
      'classify',
    ),
}
