/**
 * watchlist: the user's own list of known indicators, loaded once from a CSV or JSON file. This is where an
 * offline verdict comes from. Matching is pure map lookups: exact (type, value); addresses and CIDRs against
 * listed networks (most specific wins); hosts against "*.domain" entries; URLs fall back to their host.
 */
import { basename, join, resolve } from 'node:path'
import ipaddr from 'ipaddr.js'
import { findProjectRoot } from '../contract/project-root.js'
import { normaliseIndicator } from '../indicators/normalise.js'
import { INDICATOR_TYPES, type Indicator, type IndicatorType } from '../indicators/types.js'
import { splitUrl } from './classify.js'
import type { Finding, SourceDefinition, SourceInstance, Verdict } from './types.js'
import { answeringInstance } from './answering-instance.js'
import { readWatchlistFile, type WatchlistEntry } from './watchlist-file.js'

/** The WATCHLIST_PATH default: the sample shipped in the repo, relative to the project root (not the cwd). */
export const WATCHLIST_DEFAULT_PATH = 'data/watchlist.sample.csv'

/** Absolute path of the shipped sample; found when asked, so importing this module touches no files. */
export const watchlistSamplePath = (): string => join(findProjectRoot(import.meta.url), WATCHLIST_DEFAULT_PATH)

/**
 * The file to load: the default names the shipped sample wherever the service runs from; any other relative
 * path resolves against the working directory, like every other path a user types.
 */
export const resolveWatchlistPath = (setting: string | undefined, cwd: string = process.cwd()): string =>
  setting === undefined || setting === WATCHLIST_DEFAULT_PATH ? watchlistSamplePath() : resolve(cwd, setting)

/** Score by listed verdict: the list says what it is; unknown carries no score. */
const WATCHLIST_SCORES: Readonly<Record<Verdict, number | null>> = {
  malicious: 90,
  suspicious: 50,
  benign: 0,
  unknown: null,
}
/** Confidence of an entry that gives none. */
const WATCHLIST_DEFAULT_CONFIDENCE = 80

/** How an indicator met its entry. */
type MatchKind = 'exact' | 'cidr' | 'wildcard' | 'url' | 'host of url'

export interface WatchlistMatch {
  readonly entry: WatchlistEntry
  readonly kind: MatchKind
}

/** Networks of one address family: per prefix length, network number (address >> host bits) -> entry. */
interface NetworkIndex {
  readonly bits: number
  readonly byPrefix: ReadonlyMap<number, ReadonlyMap<bigint, WatchlistEntry>>
  /** Prefix lengths present, longest first, so the first hit is the most specific. */
  readonly prefixes: readonly number[]
}

type NetworkMaps = Map<number, Map<bigint, WatchlistEntry>>

export interface Watchlist {
  /** Where the entries came from (for health and messages). */
  readonly path: string
  /** Distinct entries after duplicates were resolved. */
  readonly size: number
  /** "line 7 replaces line 3 (evil.example)" for each duplicate: the later entry wins. */
  readonly duplicates: readonly string[]
  readonly exact: ReadonlyMap<string, WatchlistEntry>
  /** "*.example.com" entries keyed by "example.com". */
  readonly wildcards: ReadonlyMap<string, WatchlistEntry>
  readonly v4: NetworkIndex
  readonly v6: NetworkIndex
}

const exactKey = (type: IndicatorType, value: string): string => `${type} ${value}`

const toBigInt = (ip: ipaddr.IPv4 | ipaddr.IPv6): bigint =>
  ip.toByteArray().reduce((n, byte) => (n << 8n) | BigInt(byte), 0n)

const networkIndex = (bits: number, byPrefix: NetworkMaps): NetworkIndex => ({
  bits,
  byPrefix,
  prefixes: [...byPrefix.keys()].sort((a, b) => b - a),
})

const indexOf = (list: Pick<Watchlist, 'v4' | 'v6'>, ip: ipaddr.IPv4 | ipaddr.IPv6): NetworkIndex =>
  ip.kind() === 'ipv4' ? list.v4 : list.v6

const addNetwork = (maps: NetworkMaps, bits: number, address: bigint, prefix: number, entry: WatchlistEntry): void => {
  let networks = maps.get(prefix)
  if (networks === undefined) maps.set(prefix, (networks = new Map()))
  networks.set(address >> BigInt(bits - prefix), entry)
}

/** Pure: builds the lookup structures; later entries replace earlier ones with the same (type, entry). */
export const buildWatchlist = (entries: readonly WatchlistEntry[], path: string): Watchlist => {
  const exact = new Map<string, WatchlistEntry>()
  const wildcards = new Map<string, WatchlistEntry>()
  const duplicates: string[] = []
  const v4: NetworkMaps = new Map()
  const v6: NetworkMaps = new Map()
  for (const entry of entries) {
    const key = exactKey(entry.indicator.type, entry.entry)
    const earlier = exact.get(key)
    if (earlier !== undefined) duplicates.push(`${entry.where} replaces ${earlier.where} (${entry.entry})`)
    exact.set(key, entry)
    if (entry.wildcard) wildcards.set(entry.indicator.value, entry)
    if (entry.indicator.type === 'CIDR') {
      const [ip, prefix] = ipaddr.parseCIDR(entry.indicator.value)
      if (ip.kind() === 'ipv4') addNetwork(v4, 32, toBigInt(ip), prefix, entry)
      else addNetwork(v6, 128, toBigInt(ip), prefix, entry)
    }
  }
  return { path, size: exact.size, duplicates, exact, wildcards, v4: networkIndex(32, v4), v6: networkIndex(128, v6) }
}

/** The most specific listed network holding the block address/prefix (prefix = full length for one address). */
const containingNetwork = (
  index: NetworkIndex,
  address: bigint,
  prefix: number,
): { entry: WatchlistEntry; prefix: number } | undefined => {
  for (const p of index.prefixes) {
    if (p > prefix) continue
    const entry = index.byPrefix.get(p)?.get(address >> BigInt(index.bits - p))
    if (entry !== undefined) return { entry, prefix: p }
  }
  return undefined
}

const matchAddress = (list: Watchlist, value: string): WatchlistMatch | undefined => {
  const exact = list.exact.get(exactKey('Address', value))
  if (exact !== undefined) return { entry: exact, kind: 'exact' }
  const ip = ipaddr.parse(value)
  const index = indexOf(list, ip)
  const inside = containingNetwork(index, toBigInt(ip), index.bits)
  if (inside !== undefined) return { entry: inside.entry, kind: 'cidr' }
  // ::ffff:a.b.c.d is the IPv4 address a.b.c.d as seen on a dual-stack socket.
  if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress()) return matchAddress(list, ip.toIPv4Address().toString())
  return undefined
}

const matchCidr = (list: Watchlist, value: string): WatchlistMatch | undefined => {
  const [ip, prefix] = ipaddr.parseCIDR(value)
  const index = indexOf(list, ip)
  const inside = containingNetwork(index, toBigInt(ip), prefix)
  if (inside?.prefix === prefix) return { entry: inside.entry, kind: 'exact' }
  // A /32 (/128) block is one address: a listed Address is more specific than any listed network.
  if (prefix === index.bits) {
    const single = list.exact.get(
      exactKey('Address', ip.kind() === 'ipv4' ? ip.toString() : (ip as ipaddr.IPv6).toRFC5952String()),
    )
    if (single !== undefined) return { entry: single, kind: 'cidr' }
  }
  return inside === undefined ? undefined : { entry: inside.entry, kind: 'cidr' }
}

const matchHost = (list: Watchlist, value: string): WatchlistMatch | undefined => {
  const exact = list.exact.get(exactKey('Host', value))
  if (exact !== undefined) return { entry: exact, kind: 'exact' }
  // Walk up the labels: the longest listed parent domain wins ("*.a.example" before "*.example").
  for (let dot = value.indexOf('.'); dot !== -1; dot = value.indexOf('.', dot + 1)) {
    const entry = list.wildcards.get(value.slice(dot + 1))
    if (entry !== undefined) return { entry, kind: 'wildcard' }
  }
  return undefined
}

/** The URL's host, as an Address or Host entry would be written. */
const hostOfUrl = (url: string): Indicator | undefined => {
  const host = splitUrl(url)?.host
  if (host === undefined || host === '') return undefined
  const normalised = normaliseIndicator(host, ipaddr.isValid(host) ? 'Address' : 'Host')
  return normalised.ok ? normalised.indicator : undefined
}

const matchUrl = (list: Watchlist, value: string): WatchlistMatch | undefined => {
  const exact = list.exact.get(exactKey('URL', value))
  if (exact !== undefined) return { entry: exact, kind: 'url' }
  const host = hostOfUrl(value)
  if (host === undefined) return undefined
  const viaHost = host.type === 'Address' ? matchAddress(list, host.value) : matchHost(list, host.value)
  return viaHost === undefined ? undefined : { entry: viaHost.entry, kind: 'host of url' }
}

/** Pure: the entry a canonical indicator matches, or undefined. */
export const matchWatchlist = (list: Watchlist, indicator: Indicator): WatchlistMatch | undefined => {
  switch (indicator.type) {
    case 'Address':
      return matchAddress(list, indicator.value)
    case 'CIDR':
      return matchCidr(list, indicator.value)
    case 'Host':
      return matchHost(list, indicator.value)
    case 'URL':
      return matchUrl(list, indicator.value)
    case 'EmailAddress':
    case 'File':
    case 'ASN': {
      const entry = list.exact.get(exactKey(indicator.type, indicator.value))
      return entry === undefined ? undefined : { entry, kind: 'exact' }
    }
  }
}

/** Pure: the finding for a match (or for no match, on a list of `size` entries). */
export const toFinding = (match: WatchlistMatch | undefined, size: number): Finding => {
  if (match === undefined) {
    return {
      verdict: 'unknown',
      score: null,
      confidence: null,
      tags: [],
      summary: `not on the watchlist (${size} entr${size === 1 ? 'y' : 'ies'})`,
      facts: { match: false, entry: null, comment: null },
      raw: null,
    }
  }
  const { entry, kind } = match
  return {
    verdict: entry.verdict,
    score: WATCHLIST_SCORES[entry.verdict],
    confidence: entry.confidence ?? WATCHLIST_DEFAULT_CONFIDENCE,
    tags: entry.tags,
    summary: `listed as ${entry.verdict}${entry.comment === null ? '' : `: ${entry.comment}`}`,
    facts: { match: true, entry: entry.entry, match_kind: kind, comment: entry.comment, list_verdict: entry.verdict },
    raw: {
      entry: entry.entry,
      type: entry.indicator.type,
      verdict: entry.verdict,
      confidence: entry.confidence,
      tags: entry.tags,
      comment: entry.comment,
      where: entry.where,
    },
  }
}

/** Most duplicates named in the health detail. */
const MAX_LISTED_DUPLICATES = 5

export const describeWatchlist = (list: Watchlist): string => {
  // The file's name only: /health is open, and the host's directory layout is nobody's business.
  const base = `${list.size} entr${list.size === 1 ? 'y' : 'ies'} from ${basename(list.path)}`
  const n = list.duplicates.length
  if (n === 0) return base
  const shown = list.duplicates.slice(0, MAX_LISTED_DUPLICATES).join(', ')
  const more = n > MAX_LISTED_DUPLICATES ? `, and ${n - MAX_LISTED_DUPLICATES} more` : ''
  return `${base}; ${n} duplicate${n === 1 ? '' : 's'}, the later kept: ${shown}${more}`
}

/** Reads, checks and indexes the file; a relative path resolves against the working directory. */
export const loadWatchlist = async (path: string, cwd: string = process.cwd()): Promise<Watchlist> => {
  const absolute = resolve(cwd, path)
  return buildWatchlist(await readWatchlistFile(absolute), absolute)
}

export const watchlistSource: SourceDefinition = {
  id: 'watchlist',
  title: 'Watchlist',
  kind: 'embedded',
  description:
    'Your own list of known indicators (the CSV or JSON file WATCHLIST_PATH names) with verdict, confidence, tags and ' +
    'a comment, matched after normalisation; CIDR entries match the addresses inside them. The offline verdict.',
  supports: INDICATOR_TYPES,
  outputs: [
    { key: 'match', type: 'String', note: 'Watchlist: "true" when the indicator is on the watchlist.' },
    { key: 'entry', type: 'String', note: 'Watchlist: the entry that matched.' },
    { key: 'comment', type: 'String', note: "Watchlist: the entry's comment." },
  ],
  settings: [
    {
      key: 'path',
      env: 'WATCHLIST_PATH',
      description:
        'Watchlist file, .csv (header indicator,type,verdict,confidence,tags,comment) or .json (array of objects ' +
        'with those fields); a relative path resolves against the working directory. The default is the sample shipped ' +
        'with the service (resolved against its install folder).',
      default: WATCHLIST_DEFAULT_PATH,
    },
  ],
  start: async (config): Promise<SourceInstance> => {
    const list = await loadWatchlist(resolveWatchlistPath(config.sources['watchlist']?.['path']))
    const detail = describeWatchlist(list)
    return answeringInstance(
      () => ({ state: 'ready', detail }),
      (indicator) => toFinding(matchWatchlist(list, indicator), list.size),
      'match',
    )
  },
}
