/**
 * abuse.ch URLhaus, a CSV dump: `#` comment lines (a banner and the column names), then quoted rows
 * `id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter` with CRLF line ends. The default is the
 * recent dump (`csv_recent`, the last 30 days, plain text); the full dump at `/downloads/csv/` is a ZIP holding
 * csv.txt, which the feed job unpacks. Regenerated every 5 minutes; fetch it no more often. abuse.ch asks for an
 * Auth-Key.
 */
import { Readable } from 'node:stream'
import { parse } from 'csv-parse'
import { cleanTags, FeedRows, tagList, utcTime } from './feed-kit.js'
import type { FeedDefinition } from './types.js'

const COLUMNS = 9

/** Online: serving malware now. Offline: it did, recently. */
export const URLHAUS_MAPPING = {
  online: { rating: 4, confidence: 85 },
  offline: { rating: 3, confidence: 60 },
} as const

export const urlhausFeed: FeedDefinition = {
  id: 'urlhaus',
  title: 'abuse.ch URLhaus',
  description: 'URLs spreading malware (the recent CSV dump: URLs added in the last 30 days).',
  defaultUrl: 'https://urlhaus.abuse.ch/downloads/csv_recent/',
  minIntervalMs: 5 * 60_000,
  licence: 'abuse.ch terms of use (CC0 for the data); credit "abuse.ch URLhaus" (https://urlhaus.abuse.ch/api/).',
  auth: { env: 'URLHAUS_API_KEY', header: 'Auth-Key' },
  async parse(text, sink) {
    const rows = new FeedRows(sink)
    let broken: string | undefined
    let lastChar = ''
    const source = Readable.from(
      (async function* () {
        for await (const chunk of text) {
          if (chunk !== '') lastChar = chunk[chunk.length - 1] as string
          yield chunk
        }
      })(),
    )
    const parser = source.pipe(
      parse({
        comment: '#',
        info: true,
        relax_column_count: true,
        skip_empty_lines: true,
        skip_records_with_error: true,
        // Broken quoting is the file's fault, not one value's: the download cannot be trusted to remove anything.
        on_skip: (err) => {
          if (err) broken ??= `CSV quoting broken at line ${String(err.lines)}: ${err.message}`
        },
      }),
    )
    // A download that breaks off (or is not text) fails the parser, so reading it rejects rather than hangs.
    source.once('error', (err) => parser.destroy(err))
    const records = parser as AsyncIterable<{ record: string[]; info: { lines: number } }>
    for await (const { record, info } of records) {
      if (record.length !== COLUMNS) {
        broken ??= `line ${info.lines} has ${record.length} fields, the dump has ${COLUMNS}`
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
      const firstSeen = utcTime(dateadded)
      const lastSeen = utcTime(lastOnline)
      rows.add(info.lines, url, 'URL', {
        ...(status === 'online' ? URLHAUS_MAPPING.online : URLHAUS_MAPPING.offline),
        tags: cleanTags([threat, ...tagList(tags)]),
        attributes: [
          { type: 'Source', value: `abuse.ch URLhaus #${id}` },
          { type: 'External Reference', value: link },
        ],
        ...(firstSeen ? { firstSeen } : {}),
        ...(lastSeen ? { lastSeen } : {}),
      })
    }
    // The dump ends with a line break after its last row; a download cut mid-row does not (whatever the CSV reader
    // then made of its open quote, the cut is the reason).
    if (lastChar !== '' && lastChar !== '\n') broken = 'the download ends mid-row'
    return rows.report(broken)
  },
}
