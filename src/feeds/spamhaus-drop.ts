/**
 * Spamhaus DROP ("Don't Route Or Peer"), JSON lines: one object per listed netblock (`{"cidr","sblid","rir"}`) or AS
 * (`{"asn","rir","domain","cc","asname"}`), and a last `{"type":"metadata", "records": N, ...}` line whose count makes
 * a cut download detectable. Three lists, three feeds: DROP for IPv4 and IPv6, and ASN-DROP. Fetch at most once an
 * hour; credit Spamhaus when used in a product. One netblock listed under two SBL ids is one indicator with both.
 */
import { FeedRows, lines } from './feed-kit.js'
import type { FeedDefinition, FeedItem } from './types.js'
import type { RequestedType } from '../indicators/types.js'

/** Netblocks and ASNs Spamhaus lists for routing no traffic at all: Moderate, Confirmed. */
const SPAMHAUS_DROP_MAPPING = { rating: 3, confidence: 90 } as const

const LICENCE =
  'Spamhaus DROP terms (free for use; credit "The Spamhaus Project" when used in a product; https://www.spamhaus.org/drop/).'

interface DropList {
  readonly id: string
  readonly title: string
  readonly description: string
  readonly url: string
  readonly type: RequestedType
  readonly tag: string
  /** The entry's value and its reference attributes, or undefined when it has none. */
  readonly read: (e: Record<string, unknown>) => { value: string; attributes: FeedItem['attributes'] } | undefined
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '')

const netblock = (e: Record<string, unknown>) => {
  const sblid = str(e['sblid'])
  return {
    value: str(e['cidr']),
    attributes: [
      { type: 'Source', value: `Spamhaus DROP${sblid ? ` ${sblid}` : ''}` },
      ...(sblid
        ? [{ type: 'External Reference', value: `https://check.spamhaus.org/sbl/query/${encodeURIComponent(sblid)}` }]
        : []),
    ],
  }
}

const dropFeed = (list: DropList): FeedDefinition => ({
  id: list.id,
  title: list.title,
  description: list.description,
  defaultUrl: list.url,
  minIntervalMs: 60 * 60_000,
  licence: LICENCE,
  async parse(body, sink) {
    const rows = new FeedRows(sink)
    let declared: number | undefined
    let records = 0
    let broken: string | undefined
    const end = { whole: true }
    for await (const [n, text] of lines(body, end)) {
      const line = text.trim()
      if (line === '') continue
      let entry: unknown
      try {
        entry = JSON.parse(line)
      } catch {
        broken ??= `line ${n} is not a JSON line`
        continue
      }
      if (typeof entry !== 'object' || entry === null) {
        broken ??= `line ${n} is not a JSON object`
        continue
      }
      const e = entry as Record<string, unknown>
      if (e['type'] === 'metadata') {
        declared = typeof e['records'] === 'number' ? e['records'] : undefined
        continue
      }
      records += 1
      const read = list.read(e)
      if (read === undefined) {
        rows.reject(n, 'no value in the entry')
        continue
      }
      const rir = str(e['rir'])
      rows.add(n, read.value, list.type, {
        ...SPAMHAUS_DROP_MAPPING,
        tags: [list.tag, ...(rir !== '' ? [`rir:${rir}`] : [])],
        attributes: read.attributes,
      })
    }
    // A cut download's last line is half a line: the cut is the reason, whatever parsing it made of it.
    if (!end.whole) broken = 'the download ends mid-line'
    if (declared === undefined) broken ??= `no metadata line (the download is cut short, or not the ${list.title} list)`
    else if (declared !== records) broken ??= `the metadata says ${declared} records, the download holds ${records}`
    return rows.report(broken)
  },
})

export const spamhausDropFeed = dropFeed({
  id: 'spamhaus_drop',
  title: 'Spamhaus DROP',
  description: 'IPv4 netblocks hijacked or leased by professional spam or cyber-crime operations (DROP).',
  url: 'https://www.spamhaus.org/drop/drop_v4.json',
  type: 'CIDR',
  tag: 'spamhaus-drop',
  read: netblock,
})

export const spamhausDropV6Feed = dropFeed({
  id: 'spamhaus_drop_v6',
  title: 'Spamhaus DROPv6',
  description: 'IPv6 netblocks hijacked or leased by professional spam or cyber-crime operations (DROPv6).',
  url: 'https://www.spamhaus.org/drop/drop_v6.json',
  type: 'CIDR',
  tag: 'spamhaus-drop',
  read: netblock,
})

export const spamhausAsnDropFeed = dropFeed({
  id: 'spamhaus_asndrop',
  title: 'Spamhaus ASN-DROP',
  description: 'Autonomous systems run by or for spammers and cyber-criminals (ASN-DROP).',
  url: 'https://www.spamhaus.org/drop/asndrop.json',
  type: 'ASN',
  tag: 'spamhaus-asndrop',
  read: (e) => {
    const asn = str(e['asn'])
    if (asn === '') return undefined
    const name = str(e['asname'])
    const cc = str(e['cc'])
    return {
      value: `AS${asn.replace(/^AS/i, '')}`,
      attributes: [
        { type: 'Source', value: `Spamhaus ASN-DROP${name ? ` (${name}${cc ? `, ${cc}` : ''})` : ''}` },
        { type: 'External Reference', value: 'https://www.spamhaus.org/drop/asndrop.json' },
      ],
    }
  },
})
