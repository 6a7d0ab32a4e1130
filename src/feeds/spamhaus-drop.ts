/**
 * Spamhaus DROP ("Don't Route Or Peer"), JSON lines: one `{"cidr","sblid","rir"}` per netblock hijacked or run by
 * criminals, and a last `{"type":"metadata", "records": N, ...}` line. The record count makes a cut download
 * detectable. Fetch at most once an hour; credit Spamhaus when used in a product.
 */
import { FeedRows } from './feed-kit.js'
import type { FeedDefinition } from './types.js'

/** Netblocks Spamhaus lists for routing no traffic at all: Moderate, Confirmed. */
const SPAMHAUS_DROP_MAPPING = { rating: 3, confidence: 90 } as const

export const spamhausDropFeed: FeedDefinition = {
  id: 'spamhaus_drop',
  title: 'Spamhaus DROP',
  description: 'Netblocks hijacked or leased by professional spam or cyber-crime operations (DROP, IPv4).',
  defaultUrl: 'https://www.spamhaus.org/drop/drop_v4.json',
  minIntervalMs: 60 * 60_000,
  licence:
    'Spamhaus DROP terms (free for use; credit "The Spamhaus Project" when used in a product; https://www.spamhaus.org/drop/).',
  parse(body, sink) {
    const rows = new FeedRows(sink)
    let declared: number | undefined
    let records = 0
    body.split('\n').forEach((text, i) => {
      const line = text.trim()
      if (line === '') return
      let entry: unknown
      try {
        entry = JSON.parse(line)
      } catch {
        return rows.reject(i + 1, 'not a JSON line')
      }
      if (typeof entry !== 'object' || entry === null) return rows.reject(i + 1, 'not an object')
      const e = entry as Record<string, unknown>
      if (e['type'] === 'metadata') {
        declared = typeof e['records'] === 'number' ? e['records'] : undefined
        return
      }
      records += 1
      const sblid = typeof e['sblid'] === 'string' ? e['sblid'] : ''
      rows.add(i + 1, typeof e['cidr'] === 'string' ? e['cidr'] : '', 'CIDR', {
        ...SPAMHAUS_DROP_MAPPING,
        tags: ['spamhaus-drop', ...(typeof e['rir'] === 'string' && e['rir'] !== '' ? [`rir:${e['rir']}`] : [])],
        attributes: [
          { type: 'Source', value: `Spamhaus DROP${sblid ? ` ${sblid}` : ''}` },
          ...(sblid
            ? [
                {
                  type: 'External Reference',
                  value: `https://check.spamhaus.org/sbl/query/${encodeURIComponent(sblid)}`,
                },
              ]
            : []),
        ],
      })
    })
    const incomplete =
      declared === undefined
        ? 'no metadata line (the download is cut short, or not the DROP list)'
        : declared !== records
          ? `the metadata says ${declared} records, the download holds ${records}`
          : undefined
    return rows.result(incomplete)
  },
}
