/** Each feed's parser on its real format: mapping onto rating/confidence/tags/attributes, bad rows, cut downloads. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { urlhausFeed, URLHAUS_MAPPING } from '../../src/feeds/urlhaus.js'
import { threatfoxFeed } from '../../src/feeds/threatfox.js'
import { feodoFeed, FEODO_MAPPING } from '../../src/feeds/feodo.js'
import { spamhausDropFeed } from '../../src/feeds/spamhaus-drop.js'
import { fileFeed } from '../../src/feeds/file.js'

const body = (name: string): string => readFileSync(new URL(`./bodies/${name}`, import.meta.url), 'utf8')

t.test('urlhaus: comment header skipped, quoted rows mapped, online above offline', async (t) => {
  const parsed = urlhausFeed.parse(body('urlhaus.csv'))
  t.equal(parsed.items.length, 3)
  t.same(parsed.invalid, [])
  t.equal(parsed.incomplete, undefined)
  const [online, offline] = parsed.items
  t.match(online, {
    type: 'URL',
    summary: 'http://198.51.100.7:43512/i',
    ...URLHAUS_MAPPING.online,
    firstSeen: '2026-12-01T10:01:12.000Z',
  })
  t.same(online?.tags, ['malware_download', '32-bit', 'elf', 'mips', 'Mozi'])
  t.same(online?.attributes, [
    { type: 'Source', value: 'abuse.ch URLhaus #3312001' },
    { type: 'External Reference', value: 'https://urlhaus.abuse.ch/url/3312001/' },
  ])
  t.match(offline, { ...URLHAUS_MAPPING.offline })
})

t.test(
  'urlhaus: a row with the wrong field count or a bad URL is counted with its line; a cut download is incomplete',
  async (t) => {
    const text = `${body('urlhaus.csv')}"1","2026-12-01 00:00:00","not a url","online","","malware_download","","https://urlhaus.abuse.ch/url/1/","x"\n"2","short"\n`
    const parsed = urlhausFeed.parse(text)
    t.equal(parsed.items.length, 3)
    t.match(parsed.invalid, [
      { line: 13, reason: /not a recognised indicator|not a valid URL/ },
      { line: 14, reason: /2 fields, expected 9/ },
    ])
    const cut = body('urlhaus.csv').slice(0, -40)
    t.match(urlhausFeed.parse(cut).incomplete, /ends mid-row/)
  },
)

t.test('threatfox: ip:port to the address, types mapped, confidence kept, a bad IOC counted', async (t) => {
  const parsed = threatfoxFeed.parse(body('threatfox.json'))
  t.same(
    parsed.items.map((i) => [i.type, i.summary, i.rating, i.confidence]),
    [
      ['Address', '198.51.100.20', 4, 100],
      ['Host', 'bad-c2.example', 4, 75],
      ['File', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 3, 50],
    ],
  )
  t.same(parsed.items[0]?.tags, ['Cobalt Strike', 'botnet_cc', 'c2', 'CobaltStrike'])
  t.match(parsed.items[1]?.attributes, [
    { type: 'Source', value: 'abuse.ch ThreatFox IOC 1650002' },
    { type: 'External Reference', value: 'https://example.org/report' },
  ])
  t.match(parsed.invalid, [{ line: 4, reason: /not a (recognised indicator|valid URL)/ }])
  t.match(threatfoxFeed.parse(body('threatfox.json').slice(0, 200)).incomplete, /not valid JSON/)
})

t.test('feodo: online C2s Critical and Confirmed, offline High and Probable', async (t) => {
  const parsed = feodoFeed.parse(body('feodo.json'))
  t.match(parsed.items, [
    { type: 'Address', summary: '198.51.100.30', ...FEODO_MAPPING.online, tags: ['QakBot', 'botnet_cc'] },
    { type: 'Address', summary: '198.51.100.31', ...FEODO_MAPPING.offline },
  ])
})

t.test(
  "spamhaus_drop: CIDRs with their SBL reference; the metadata's record count catches a cut download",
  async (t) => {
    const parsed = spamhausDropFeed.parse(body('spamhaus_drop.json'))
    t.equal(parsed.items.length, 3)
    t.equal(parsed.incomplete, undefined)
    t.match(parsed.items[0], {
      type: 'CIDR',
      summary: '192.0.2.0/24',
      rating: 3,
      confidence: 90,
      tags: ['spamhaus-drop', 'rir:arin'],
    })
    const lines = body('spamhaus_drop.json').split('\n')
    const withoutOne = [lines[0], lines[2], lines[3]].join('\n')
    t.match(spamhausDropFeed.parse(withoutOne).incomplete, /metadata says 3 records, the download holds 2/)
    t.match(spamhausDropFeed.parse(lines.slice(0, 2).join('\n')).incomplete, /no metadata line/)
  },
)

t.test("file: the watchlist's columns; a wildcard or a bad row counted with its line", async (t) => {
  const feed = fileFeed('mine.csv')
  const parsed = feed.parse(
    'indicator,type,verdict,confidence,tags,comment\n198.51.100.1,,malicious,,c2,note\n*.evil.example,,malicious,,,\nnot-an-indicator,,malicious,,,\n',
  )
  t.match(parsed.items, [
    { type: 'Address', summary: '198.51.100.1', rating: 4, confidence: 80, tags: ['c2', 'malicious'] },
  ])
  t.match(parsed.invalid, [{ line: 4 }, { line: 3, reason: /wildcard/ }])
})
