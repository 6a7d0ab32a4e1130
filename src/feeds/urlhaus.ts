/**
 * abuse.ch URLhaus, the CSV database dump: `#` comment lines, then quoted rows
 * `id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter`. Regenerated every 5 minutes; fetch it
 * no more often. Since 2025 abuse.ch asks for an Auth-Key.
 */
import { parse } from 'csv-parse/sync'
import { FeedRows, tagList, utcTime } from './feed-kit.js'
import type { FeedDefinition } from './types.js'

const COLUMNS = [
  'id',
  'dateadded',
  'url',
  'url_status',
  'last_online',
  'threat',
  'tags',
  'urlhaus_link',
  'reporter',
] as const

/** Online: serving malware now. Offline: it did, recently. */
export const URLHAUS_MAPPING = {
  online: { rating: 4, confidence: 85 },
  offline: { rating: 3, confidence: 60 },
} as const

export const urlhausFeed: FeedDefinition = {
  id: 'urlhaus',
  title: 'abuse.ch URLhaus',
  description: 'URLs spreading malware (the CSV dump: active, or seen in the last 90 days).',
  defaultUrl: 'https://urlhaus.abuse.ch/downloads/csv/',
  minIntervalMs: 5 * 60_000,
  licence: 'abuse.ch terms of use (CC0 for the data); credit "abuse.ch URLhaus" (https://urlhaus.abuse.ch/api/).',
  auth: { env: 'URLHAUS_API_KEY', header: 'Auth-Key' },
  parse(text, sink) {
    const rows = new FeedRows(sink)
    let lastLine = 0
    const records = parse(text, {
      comment: '#',
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        if (err) rows.reject(Number(err.lines), `not a CSV row: ${err.message}`)
      },
    }) as unknown as { record: string[]; info: { lines: number } }[]
    for (const { record, info } of records) {
      lastLine = info.lines
      if (record.length !== COLUMNS.length) {
        rows.reject(info.lines, `${record.length} fields, expected ${COLUMNS.length} (${COLUMNS.join(',')})`)
        continue
      }
      const [id, dateadded, url, status, lastOnline, threat, tags, link] = record as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ]
      const mapping = status === 'online' ? URLHAUS_MAPPING.online : URLHAUS_MAPPING.offline
      const firstSeen = utcTime(dateadded)
      const lastSeen = utcTime(lastOnline)
      rows.add(info.lines, url, 'URL', {
        ...mapping,
        tags: tagList([threat, ...tagList(tags)]),
        attributes: [
          { type: 'Source', value: `abuse.ch URLhaus #${id}` },
          { type: 'External Reference', value: link },
        ],
        ...(firstSeen ? { firstSeen } : {}),
        ...(lastSeen ? { lastSeen } : {}),
      })
    }
    // The dump ends with a newline after its last row; a download cut mid-row does not.
    const incomplete =
      text.trim() !== '' && !text.endsWith('\n') ? `the download ends mid-row (line ${lastLine})` : undefined
    return rows.result(incomplete)
  },
}
