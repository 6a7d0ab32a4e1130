/**
 * Each feed's parser on real, dated excerpts of its format (test/feeds/bodies/SOURCES.md says where each comes from):
 * mapping onto rating/confidence/tags/attributes, placeholder tags dropped, invalid values counted, broken downloads.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { urlhausFeed, URLHAUS_MAPPING } from '../../src/feeds/urlhaus.js'
import { COMPROMISED_RATING, threatfoxFeed } from '../../src/feeds/threatfox.js'
import { FEODO_BANDS, FEODO_ONLINE, feodoFeed } from '../../src/feeds/feodo.js'
import { spamhausAsnDropFeed, spamhausDropFeed, spamhausDropV6Feed } from '../../src/feeds/spamhaus-drop.js'
import { fileFeed } from '../../src/feeds/file.js'
import type { FeedDefinition, FeedItem, ParseReport } from '../../src/feeds/types.js'

const body = (name: string): string => readFileSync(new URL(`./bodies/${name}`, import.meta.url), 'utf8')

/** The text in chunks of `size` characters, as a download streams in (rows split across chunks). */
async function* chunked(text: string, size = 97): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size)
}

const parse = async (
  feed: FeedDefinition,
  text: string,
  now = Date.parse('2026-10-05T12:00:00Z'),
): Promise<{ items: FeedItem[]; report: ParseReport }> => {
  const items: FeedItem[] = []
  const report = await feed.parse(chunked(text), (item) => items.push(item), { now })
  return { items, report }
}

t.test(
  'urlhaus (csv_recent, CRLF, banner): every row mapped, online above offline, the placeholder tag None dropped',
  async (t) => {
    const text = body('urlhaus-csv-recent-2026-02-26.csv')
    t.ok(text.includes('\r\n'), 'the excerpt has CRLF line ends, as served')
    const { items, report } = await parse(urlhausFeed, text)
    t.same(report, { count: 10, invalid: 0, invalidRows: [], broken: undefined })
    t.match(items[0], {
      type: 'URL',
      summary: 'http://182.126.120.150:58801/i',
      ...URLHAUS_MAPPING.online,
      tags: ['malware_download', '32-bit', 'elf', 'mips', 'Mozi'],
      firstSeen: '2026-02-26T12:05:20Z',
      lastSeen: '2026-02-26T12:05:20Z',
      attributes: [
        { type: 'Source', value: 'abuse.ch URLhaus #3786237' },
        { type: 'External Reference', value: 'https://urlhaus.abuse.ch/url/3786237/' },
      ],
    })
    const dropbox = items.find((i) => i.summary.startsWith('https://www.dropbox.com/'))
    t.match(dropbox, { ...URLHAUS_MAPPING.offline, tags: ['malware_download'] }, 'no tag "None"; offline')
    t.notOk('lastSeen' in (dropbox ?? {}), 'an empty last_online is no time')
    t.ok(
      items.every((i) => !i.tags.some((tag) => tag.toLowerCase() === 'none')),
      'None is never a tag',
    )
    t.equal(
      items.find((i) => i.summary.includes('Zoom%20Setup'))?.summary,
      'https://pub-462189601a584e8fad4889d4ed31f4f4.r2.dev/Zoom%20Setup.exe',
      'the path kept byte for byte',
    )
  },
)

t.test(
  'urlhaus: a bad value is counted with its line; broken quoting, a short row or a cut download break it',
  async (t) => {
    const text = body('urlhaus-csv-recent-2026-02-26.csv')
    const bad = `${text}"1","2026-02-26 00:00:00","not a url","online","","malware_download","","https://urlhaus.abuse.ch/url/1/","x"\r\n`
    const withBad = await parse(urlhausFeed, bad)
    t.match(withBad.report, {
      count: 10,
      invalid: 1,
      invalidRows: [{ line: 20, reason: /not a (recognised indicator|valid URL)/ }],
      broken: undefined,
    })
    t.match((await parse(urlhausFeed, `${text}"2","short"\r\n`)).report.broken, /2 fields, the dump has 9/)
    t.match(
      (await parse(urlhausFeed, `${text}"3","2026-02-26 00:00:00","http://x.example/"a"b","online"\r\n`)).report.broken,
      /CSV quoting broken|fields/,
    )
    t.match((await parse(urlhausFeed, text.slice(0, -40))).report.broken, /ends mid-row/)
  },
)

t.test(
  'threatfox (the real export): ip:port to the address with its port kept, Unknown malware never a tag, compromised rated down',
  async (t) => {
    const { items, report } = await parse(threatfoxFeed, body('threatfox-export-2026-10-03.json'))
    t.same(report, { count: 6, invalid: 0, invalidRows: [], broken: undefined })
    const ports = items.filter((i) => i.summary === '144.172.68.200')
    t.equal(ports.length, 2, 'two IOCs of one IP (the feed job merges them)')
    t.same(ports.map((i) => i.attributes[0]?.value).sort(), [
      'abuse.ch ThreatFox IOC 1948833 (botnet_cc on port 80)',
      'abuse.ch ThreatFox IOC 1948834 (botnet_cc on port 8080)',
    ])
    t.match(
      ports[0],
      {
        type: 'Address',
        rating: COMPROMISED_RATING,
        confidence: 100,
        tags: ['Cobalt Strike', 'botnet_cc', 'cobaltstrike', 'compromised'],
      },
      'is_compromised: rated down, and tagged',
    )
    const domain = items.find((i) => i.type === 'Host')
    t.match(domain, {
      summary: 'globalprotextcommerc.at',
      rating: 3,
      confidence: 90,
      tags: ['payload_delivery', 'ZigClipper'],
    })
    t.notOk(
      items.some((i) => i.tags.some((tag) => /unknown/i.test(tag))),
      'no "Unknown malware" tag',
    )
    t.match(
      items.find((i) => i.summary.startsWith('3335c068')),
      { type: 'File', rating: 3, confidence: 95, tags: ['Mirai', 'payload', 'elf', 'exe'] },
    )
    t.match(items[0]?.firstSeen, /^2026-10-03T\d\d:\d\d:\d\dZ$/, 'times to the second, as tcex writes them')
  },
)

t.test('threatfox: the API answer is read as such; anything else is not the export, never rows', async (t) => {
  const api = JSON.stringify({
    query_status: 'ok',
    data: [
      {
        id: '77',
        ioc: 'bad.example',
        ioc_type: 'domain',
        threat_type: 'botnet_cc',
        malware_printable: 'Emotet',
        confidence_level: 80,
      },
    ],
  })
  const read = await parse(threatfoxFeed, api)
  t.match(read.items, [{ summary: 'bad.example', attributes: [{ value: 'abuse.ch ThreatFox IOC 77' }] }])
  t.match(
    (await parse(threatfoxFeed, JSON.stringify({ query_status: 'no_result', data: 'x' }))).report.broken,
    /query_status 'no_result'/,
  )
  t.match(
    (await parse(threatfoxFeed, JSON.stringify({ data: { a: 1 } }))).report.broken,
    /not the ThreatFox export \(its keys are IOC ids\)/,
  )
  t.match(
    (await parse(threatfoxFeed, body('threatfox-export-2026-10-03.json').slice(0, 300))).report.broken,
    /not valid JSON/,
  )
})

t.test('feodo (the real list): online Critical; offline rated by how long, in bands; the host name kept', async (t) => {
  const { items } = await parse(
    feodoFeed,
    body('feodo-ipblocklist-2026-10-05.json'),
    Date.parse('2026-03-13T00:00:00Z'),
  )
  t.match(
    items.find((i) => i.summary === '50.16.16.211'),
    { ...FEODO_ONLINE, tags: ['QakBot', 'botnet_cc'] },
  )
  t.match(
    items.find((i) => i.summary === '162.243.103.246'),
    { rating: 4, confidence: 75 },
    'offline 6 days: the first band',
  )
  t.match(
    items.find((i) => i.summary === '178.62.3.223'),
    { rating: 3, confidence: 50 },
    'offline 23 days: the second',
  )
  t.match(items.find((i) => i.summary === '178.62.3.223')?.attributes, [
    { type: 'Source', value: 'abuse.ch Feodo Tracker (C2 port 443)' },
    { type: 'External Reference' },
    { type: 'Description', value: 'Host name: box.nautadb.com' },
  ])
  const july = await parse(feodoFeed, body('feodo-ipblocklist-2026-10-05.json'), Date.parse('2026-07-09T00:00:00Z'))
  const last = FEODO_BANDS[FEODO_BANDS.length - 1]
  t.match(
    july.items.find((i) => i.summary === '162.243.103.246'),
    { rating: last?.rating, confidence: last?.confidence },
    'offline since March: no longer rated 4 in July',
  )
  t.same(
    (await parse(feodoFeed, '[]')).report,
    { count: 0, invalid: 0, invalidRows: [], broken: undefined },
    'an empty list is a whole download',
  )
})

t.test(
  'spamhaus DROP (the real list): CIDRs with their SBL reference, rir null, the record count; v6 and ASN-DROP too',
  async (t) => {
    const text = body('spamhaus-drop-v4-2025-06-14.json')
    const { items, report } = await parse(spamhausDropFeed, text)
    t.same(report, { count: 8, invalid: 0, invalidRows: [], broken: undefined })
    t.match(
      items.find((i) => i.summary === '5.44.253.0/24'),
      { type: 'CIDR', rating: 3, confidence: 90, tags: ['spamhaus-drop'] },
      'rir null: no rir tag',
    )
    t.equal(
      items.filter((i) => i.summary === '62.60.226.0/24').length,
      2,
      'one netblock under two SBL ids: two rows (merged by the feed job)',
    )
    const lines = text.trim().split('\n')
    t.match(
      (await parse(spamhausDropFeed, `${[...lines.slice(0, 3), ...lines.slice(4)].join('\n')}\n`)).report.broken,
      /metadata says 8 records, the download holds 7/,
    )
    t.match((await parse(spamhausDropFeed, `${lines.slice(0, 3).join('\n')}\n`)).report.broken, /no metadata line/)
    t.match((await parse(spamhausDropFeed, text.slice(0, -30))).report.broken, /ends mid-line/)
    const v6 = await parse(
      spamhausDropV6Feed,
      '{"cidr":"2a06:e480::/29","sblid":"SBL301771","rir":"ripencc"}\n{"type":"metadata","records":1}\n',
    )
    t.match(v6.items, [{ type: 'CIDR', summary: '2a06:e480::/29' }])
    const asn = await parse(
      spamhausAsnDropFeed,
      '{"asn":400992,"rir":"arin","domain":"zhouyisat.com","cc":"US","asname":"ZHOUYISAT-COMMUNICATIONS"}\n{"type":"metadata","records":1}\n',
    )
    t.match(asn.items, [
      {
        type: 'ASN',
        summary: 'ASN400992',
        tags: ['spamhaus-asndrop', 'rir:arin'],
        attributes: [{ type: 'Source', value: 'Spamhaus ASN-DROP (ZHOUYISAT-COMMUNICATIONS, US)' }],
      },
    ])
  },
)

t.test(
  "file: the watchlist's columns; a wildcard or a bad row counted with its line; the Source names the file only",
  async (t) => {
    const feed = fileFeed('/srv/lists/mine.csv')
    const { items, report } = await parse(
      feed,
      'indicator,type,verdict,confidence,tags,comment\n198.51.100.1,,malicious,,c2,note\n*.evil.example,,malicious,,,\nnot-an-indicator,,malicious,,,\n',
    )
    t.match(items, [{ type: 'Address', summary: '198.51.100.1', rating: 4, confidence: 80, tags: ['c2', 'malicious'] }])
    t.same(items[0]?.attributes[0], { type: 'Source', value: 'Own list (mine.csv)' }, 'no server path in ThreatConnect')
    t.match(report, { count: 1, invalid: 2, invalidRows: [{ line: 4 }, { line: 3, reason: /wildcard/ }] })
  },
)
