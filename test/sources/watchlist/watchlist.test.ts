import t from 'tap'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ipaddr from 'ipaddr.js'
import type { ServiceConfig } from '../../../src/config/env.js'
import { normaliseIndicator } from '../../../src/indicators/normalise.js'
import type { Indicator, RequestedType } from '../../../src/indicators/types.js'
import type { LookupContext, SourceDeps } from '../../../src/sources/types.js'
import {
  WATCHLIST_DEFAULT_PATH,
  resolveWatchlistPath,
  watchlistSamplePath,
  buildWatchlist,
  describeWatchlist,
  loadWatchlist,
  matchWatchlist,
  toFinding,
  watchlistSource,
  type Watchlist,
} from '../../../src/sources/watchlist.js'
import { parseWatchlist } from '../../../src/sources/watchlist-file.js'

const here = dirname(fileURLToPath(import.meta.url))
const fixture = (name: string): string => join(here, 'fixtures', name)

const ind = (raw: string, type: RequestedType = 'Auto'): Indicator => {
  const result = normaliseIndicator(raw, type)
  if (!result.ok) throw new Error(`test indicator ${raw}: ${result.reason}`)
  return result.indicator
}

/** [entry as listed, match kind] or undefined for no match. */
const hit = (list: Watchlist, raw: string, type: RequestedType = 'Auto'): [string, string] | undefined => {
  const m = matchWatchlist(list, ind(raw, type))
  return m === undefined ? undefined : [m.entry.entry, m.kind]
}

const config = (path: string | undefined): ServiceConfig =>
  ({ sources: { watchlist: { path } } }) as unknown as ServiceConfig
const deps = {} as SourceDeps
const ctx = {
  signal: new AbortController().signal,
  forceRefresh: false,
  deadlineAt: Date.now() + 60_000,
  keyPrint: 'test',
  settings: {},
} as unknown as LookupContext

t.test('CSV: loads every entry, normalised, with its fields', async (t) => {
  const list = await loadWatchlist(fixture('good.csv'))
  t.equal(list.size, 14)
  t.equal(list.path, fixture('good.csv'))
  t.same(list.duplicates, [])
  t.equal(describeWatchlist(list), '14 entries from good.csv', 'the file name only: /health is open')
  const entries = [...list.exact.values()]
  t.same(
    entries.map((e) => e.entry),
    [
      '10.0.0.0/8',
      '10.1.0.0/16',
      '10.1.2.0/24',
      '10.1.2.3',
      '2001:db8::/32',
      '2001:db8:1::/48',
      'evil.example',
      '*.phish.example',
      '*.deep.phish.example',
      'http://bad.example/login',
      'https://www.good.example/',
      'bob@evil.example',
      '44d88612fea8a8f36de82e1278abb02f',
      'ASN64500',
    ],
  )
  const first = entries[0]!
  t.match(first, {
    verdict: 'suspicious',
    confidence: 40,
    tags: ['internal'],
    comment: 'Whole private /8, comma in comment',
    where: 'line 4',
  })
  t.equal(first.indicator.type, 'CIDR', 'empty type is detected')
  const implant = list.exact.get('Address 10.1.2.3')!
  t.same(implant.tags, ['implant', 'c2'], 'tags split on |')
  t.equal(list.exact.get('CIDR 10.1.0.0/16')!.confidence, null, 'empty confidence stays absent')
  t.equal(list.exact.get('URL https://www.good.example/')!.comment, null, 'empty comment is null')
})

t.test('JSON: same fields, tags as an array, index as location', async (t) => {
  const list = await loadWatchlist(fixture('good.json'))
  t.equal(list.size, 6)
  t.same(hit(list, '10.1.2.77'), ['10.1.2.0/24', 'cidr'])
  t.same(hit(list, '2001:db8:1:ffff::1'), ['2001:db8:1::/48', 'cidr'])
  t.same(hit(list, 'x.phish.example'), ['*.phish.example', 'wildcard'])
  const defanged = list.exact.get('URL http://bad.example/login')!
  t.same(defanged.tags, ['phishing', 'credential-theft'])
  t.equal(defanged.where, 'index 4')
  const evil = list.exact.get('Host evil.example')!
  t.match(
    evil,
    { verdict: 'malicious', confidence: null, tags: [], comment: null, where: 'index 5' },
    'nulls mean absent; verdict case ignored',
  )
})

t.test('defanged entries are normalised at load and match refanged indicators', async (t) => {
  const list = await loadWatchlist(fixture('good.csv'))
  t.same(hit(list, 'http://bad.example/login'), ['http://bad.example/login', 'url'])
  t.same(hit(list, 'hxxp://bad[.]example/login'), ['http://bad.example/login', 'url'])
  t.same(hit(list, 'https://www.good.example/'), ['https://www.good.example/', 'url'])
  t.same(hit(list, 'Bob@EVIL.example'), ['bob@evil.example', 'exact'])
  t.same(hit(list, '44d88612fea8a8f36de82e1278abb02f'), ['44d88612fea8a8f36de82e1278abb02f', 'exact'])
  t.same(hit(list, 'AS64500'), ['ASN64500', 'exact'])
  t.equal(hit(list, 'AS64501'), undefined)
})

t.test('CIDR containment: IPv4 and IPv6, most specific wins', async (t) => {
  const list = await loadWatchlist(fixture('good.csv'))
  // Address exact beats every network holding it.
  t.same(hit(list, '10.1.2.3'), ['10.1.2.3', 'exact'])
  t.same(hit(list, '10.1.2.4'), ['10.1.2.0/24', 'cidr'])
  t.same(hit(list, '10.1.200.1'), ['10.1.0.0/16', 'cidr'])
  t.same(hit(list, '10.200.0.1'), ['10.0.0.0/8', 'cidr'])
  t.equal(hit(list, '11.0.0.1'), undefined)
  t.equal(hit(list, '9.255.255.255'), undefined)
  t.same(hit(list, '2001:db8:1::5'), ['2001:db8:1::/48', 'cidr'])
  t.same(hit(list, '2001:db8:2::5'), ['2001:db8::/32', 'cidr'])
  t.equal(hit(list, '2001:db9::1'), undefined)
  // An IPv4-mapped IPv6 address is its IPv4 address.
  t.same(hit(list, '::ffff:10.1.2.4'), ['10.1.2.0/24', 'cidr'])
  // CIDR indicators: the same network, or a listed network holding the whole block.
  t.same(hit(list, '10.1.0.0/16'), ['10.1.0.0/16', 'exact'])
  t.same(hit(list, '10.1.0.0/20'), ['10.1.0.0/16', 'cidr'])
  t.same(hit(list, '10.1.2.128/25'), ['10.1.2.0/24', 'cidr'])
  t.same(hit(list, '10.1.2.3/32'), ['10.1.2.3', 'cidr'], 'a /32 is the listed address')
  t.same(hit(list, '10.1.2.4/32'), ['10.1.2.0/24', 'cidr'])
  t.same(hit(list, '2001:db8:1::/128'), ['2001:db8:1::/48', 'cidr'])
  t.equal(hit(list, '10.0.0.0/7'), undefined, 'a block larger than every listed network is not on the list')
  t.same(hit(list, '2001:db8:1:2::/64'), ['2001:db8:1::/48', 'cidr'])
  t.same(hit(list, '2001:db8::/32'), ['2001:db8::/32', 'exact'])
  t.equal(hit(list, '2001:db8::/31'), undefined)
})

t.test('CIDR containment agrees with a brute-force scan', async (t) => {
  // Deterministic pseudo-random networks and addresses (no Math.random: failures must reproduce).
  let seed = 12345
  // mulberry32: small, exact in 32-bit integer arithmetic.
  const next = (): number => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x)
    return (x ^ (x >>> 14)) >>> 0
  }
  const v4 = (): string =>
    [next() % 4, next() % 256, next() % 256, next() % 256].map((n, i) => (i === 0 ? 10 + n : n)).join('.')
  const insideOf = ([net, prefix]: [ipaddr.IPv4 | ipaddr.IPv6, number]): string => {
    const base = net.toByteArray().reduce((n, b) => n * 256 + b, 0)
    const n = base + (next() % 2 ** (32 - prefix))
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
  }
  const csv = ['indicator,verdict']
  for (let i = 0; i < 300; i++) csv.push(`${v4()}/${12 + (next() % 21)},malicious`)
  const entries = parseWatchlist(csv.join('\n'), 'csv', 'random.csv')
  const list = buildWatchlist(entries, 'random.csv')
  const networks = [...list.exact.values()].map((e) => ({ entry: e.entry, cidr: ipaddr.parseCIDR(e.entry) }))
  let matched = 0
  for (let i = 0; i < 2000; i++) {
    // Half the addresses inside a listed network (so deep prefixes get hit), half anywhere in 10-13.x.
    const address = i % 2 === 0 ? v4() : insideOf(networks[next() % networks.length]!.cidr)
    const ip = ipaddr.parse(address)
    const holders = networks.filter((n) => ip.match(n.cidr))
    const best = holders.sort((a, b) => b.cidr[1] - a.cidr[1])[0]
    const got = matchWatchlist(list, ind(address))
    if (got?.entry.entry !== best?.entry) t.fail(`${address}: got ${got?.entry.entry}, want ${best?.entry}`)
    if (got !== undefined) matched++
  }
  t.ok(matched > 100 && matched < 1900, `a fair share of addresses matched, not all (${matched})`)
  t.ok(list.v4.prefixes.length > 15, `many prefix lengths in play (${list.v4.prefixes.length})`)
})

t.test('wildcard hosts match subdomains only; exact and more specific entries win', async (t) => {
  const list = await loadWatchlist(fixture('good.csv'))
  t.same(hit(list, 'login.phish.example'), ['*.phish.example', 'wildcard'])
  t.same(hit(list, 'a.b.c.phish.example'), ['*.phish.example', 'wildcard'])
  t.equal(hit(list, 'phish.example'), undefined, '*.phish.example does not list phish.example itself')
  t.equal(hit(list, 'notphish.example'), undefined)
  t.same(hit(list, 'x.deep.phish.example'), ['*.deep.phish.example', 'wildcard'])
  t.same(hit(list, 'deep.phish.example'), ['*.phish.example', 'wildcard'])
  t.same(hit(list, 'EVIL.example'), ['evil.example', 'exact'])
  t.equal(hit(list, 'www.evil.example'), undefined, 'a plain Host entry is exact only')
})

t.test('URLs: exact URL first, else the entry for their host', async (t) => {
  const list = await loadWatchlist(fixture('good.csv'))
  t.same(hit(list, 'http://bad.example/login'), ['http://bad.example/login', 'url'])
  t.equal(hit(list, 'http://bad.example/other'), undefined, 'bad.example itself is not listed')
  t.same(hit(list, 'https://evil.example/any/path?q=1'), ['evil.example', 'host of url'])
  t.same(hit(list, 'http://user@kit.phish.example:8080/x'), ['*.phish.example', 'host of url'])
  t.same(hit(list, 'http://10.1.2.9/payload'), ['10.1.2.0/24', 'host of url'])
  t.same(hit(list, 'http://[2001:db8:1::1]/x'), ['2001:db8:1::/48', 'host of url'])
  t.equal(hit(list, 'https://example.org/'), undefined)
})

t.test('email addresses match exact entries only', async (t) => {
  const list = await loadWatchlist(fixture('good.csv'))
  t.same(hit(list, 'bob@evil.example'), ['bob@evil.example', 'exact'])
  t.equal(hit(list, 'alice@evil.example'), undefined, 'no fallback to the domain')
})

t.test('findings', async (t) => {
  const list = await loadWatchlist(fixture('good.csv'))
  const implant = toFinding(matchWatchlist(list, ind('10.1.2.3')), list.size)
  t.same(implant, {
    verdict: 'malicious',
    score: 90,
    confidence: 95,
    tags: ['implant', 'c2'],
    summary: 'listed as malicious: Known implant',
    facts: { match: true, entry: '10.1.2.3', match_kind: 'exact', comment: 'Known implant', list_verdict: 'malicious' },
    raw: {
      entry: '10.1.2.3',
      type: 'Address',
      verdict: 'malicious',
      confidence: 95,
      tags: ['implant', 'c2'],
      comment: 'Known implant',
      where: 'line 7',
    },
  })
  const lab = toFinding(matchWatchlist(list, ind('10.1.99.1')), list.size)
  t.match(
    lab,
    { verdict: 'malicious', score: 90, confidence: 80, facts: { match_kind: 'cidr', entry: '10.1.0.0/16' } },
    'default confidence 80',
  )
  t.match(toFinding(matchWatchlist(list, ind('10.5.0.1')), list.size), {
    verdict: 'suspicious',
    score: 50,
    confidence: 40,
  })
  t.match(toFinding(matchWatchlist(list, ind('10.1.2.200')), list.size), {
    verdict: 'benign',
    score: 0,
    confidence: 100,
  })
  const asn = toFinding(matchWatchlist(list, ind('AS64500')), list.size)
  t.match(asn, { verdict: 'unknown', score: null, confidence: 80, summary: 'listed as unknown: Documentation ASN' })
  const noComment = toFinding(matchWatchlist(list, ind('https://www.good.example/')), list.size)
  t.equal(noComment.summary, 'listed as benign')
  t.equal(noComment.facts['comment'], null)

  const miss = toFinding(matchWatchlist(list, ind('192.0.2.1')), list.size)
  t.same(miss, {
    verdict: 'unknown',
    score: null,
    confidence: null,
    tags: [],
    summary: 'not on the watchlist (14 entries)',
    facts: { match: false, entry: null, comment: null },
    raw: null,
  })
  t.equal(toFinding(undefined, 1).summary, 'not on the watchlist (1 entry)')
})

t.test('duplicates: the later entry wins and health says so', async (t) => {
  const list = await loadWatchlist(fixture('duplicates.csv'))
  t.equal(list.size, 3)
  t.same(list.duplicates, ['line 4 replaces line 2 (evil.example)', 'line 6 replaces line 5 (203.0.113.0/24)'])
  t.same(hit(list, 'evil.example'), ['evil.example', 'exact'])
  t.equal(matchWatchlist(list, ind('evil.example'))!.entry.comment, 'second')
  t.equal(matchWatchlist(list, ind('203.0.113.50'))!.entry.comment, 'same net written differently')
  t.equal(
    describeWatchlist(list),
    `3 entries from duplicates.csv; 2 duplicates, the later kept: line 4 replaces line 2 (evil.example), line 6 replaces line 5 (203.0.113.0/24)`,
  )
})

t.test('bad CSV entries: one error naming the file, every bad line and its problem', async (t) => {
  const err = (await loadWatchlist(fixture('bad.csv')).catch((e: unknown) => e)) as Error
  t.type(err, Error)
  const lines = err.message.split('\n')
  t.equal(lines[0], `watchlist file ${fixture('bad.csv')} has 5 bad entries:`)
  t.match(lines[1], /^ {2}line 3: 'not an indicator' is not a recognised indicator/)
  t.match(lines[2], /^ {2}line 5: verdict 'evil' is not one of malicious, suspicious, benign, unknown$/)
  t.match(lines[3], /^ {2}line 6: confidence '101' is not a whole number 0-100$/)
  t.match(lines[4], /^ {2}line 7: 'evil.example' is not a valid Address/)
  t.match(lines[5], /^ {2}line 8: '\*\.x\.example': a "\*\." wildcard entry must be a Host, not URL$/)
  t.equal(lines.length, 6)
})

t.test('bad JSON entries name the array index', async (t) => {
  const err = (await loadWatchlist(fixture('bad.json')).catch((e: unknown) => e)) as Error
  t.match(err.message, `watchlist file ${fixture('bad.json')} has 3 bad entries:`)
  t.match(err.message, "index 1: verdict 'good' is not one of")
  t.match(err.message, 'index 2: confidence 12.5 is not a whole number 0-100')
  t.match(err.message, 'index 3: tags must be')
  t.notMatch(err.message, 'index 0')
})

t.test('malformed files name the file and the place', async (t) => {
  const cases: [string, RegExp][] = [
    ['bad-header.csv', /bad-header\.csv: line 1: unknown column 'colour'/],
    ['too-many-fields.csv', /too-many-fields\.csv: line 2: 3 fields but the header has 2/],
    ['unclosed-quote.csv', /unclosed-quote\.csv: .*line 2/i],
    ['not-array.json', /not-array\.json: must be a JSON array of entries/],
    ['unknown-field.json', /unknown-field\.json: index 0: unknown field 'score'/],
    ['list.txt', /list\.txt: unsupported extension '\.txt' \(use a \.csv or \.json file\)/],
  ]
  for (const [name, want] of cases) {
    const err = (await loadWatchlist(fixture(name)).catch((e: unknown) => e)) as Error
    t.type(err, Error, name)
    t.match(err.message, want, name)
  }
  t.throws(() => parseWatchlist('', 'csv', 'empty.csv'), /empty\.csv: no header line/)
  t.throws(() => parseWatchlist('[', 'json', 'broken.json'), /broken\.json: not valid JSON/)
  t.throws(
    () => parseWatchlist('indicator,type\n8.8.8.8,\n', 'csv', 'no-verdict.csv'),
    /no-verdict\.csv: line 1: missing column 'verdict'/,
  )
  t.throws(
    () => parseWatchlist('indicator,verdict\n8.8.8.8,\n', 'csv', 'blank.csv'),
    /blank\.csv: line 2: verdict is missing/,
  )
  t.same(parseWatchlist('indicator,type,verdict,confidence,tags,comment\n', 'csv', 'header-only.csv'), [])
  // Every problem of a row is named, not just the first.
  t.throws(() => parseWatchlist('indicator,type,verdict\n8.8.8.8,Adress,evil\n', 'csv', 'two.csv'), {
    message:
      "watchlist file two.csv: line 2: type 'Adress' is not one of Address, Host, URL, File, EmailAddress, ASN, CIDR (or empty to detect it); verdict 'evil' is not one of malicious, suspicious, benign, unknown",
  })
  // Trailing optional fields may be left off; type names are not case-sensitive.
  const short = parseWatchlist(
    'indicator,verdict,type,tags\n8.8.8.8,benign\n9.9.9.9,benign,address, a | b |a|\n',
    'csv',
    'short.csv',
  )
  t.same(
    short.map((e) => [e.entry, e.indicator.type, e.tags]),
    [
      ['8.8.8.8', 'Address', []],
      ['9.9.9.9', 'Address', ['a', 'b']],
    ],
  )
})

t.test('a missing file is an error naming its path', async (t) => {
  const missing = fixture('no-such-watchlist.csv')
  await t.rejects(loadWatchlist(missing), {
    message: `watchlist file ${missing} not found (set WATCHLIST_PATH to a .csv or .json file)`,
  })
  await t.rejects(watchlistSource.start(config(missing), deps), {
    message: new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} not found`),
  })
})

t.test('relative paths resolve against the working directory', async (t) => {
  const list = await loadWatchlist(join('fixtures', 'good.json'), here)
  t.equal(list.path, fixture('good.json'))
  t.chdir(here)
  const instance = await watchlistSource.start(config('fixtures/good.csv'), deps)
  t.equal(instance.health().detail, '14 entries from good.csv', 'found from the working directory')
})

t.test('the shipped sample loads by default and gives verdicts', async (t) => {
  const sample = watchlistSamplePath()
  t.ok(isAbsolute(sample))
  t.equal(
    sample,
    join(here, '..', '..', '..', 'data', 'watchlist.sample.csv'),
    'the sample sits in the project root data/',
  )
  t.same(watchlistSource.settings[0], {
    key: 'path',
    env: 'WATCHLIST_PATH',
    description: watchlistSource.settings[0]?.description,
    default: WATCHLIST_DEFAULT_PATH,
  })
  // The default names the sample wherever the service runs from.
  t.equal(resolveWatchlistPath(undefined, '/somewhere/else'), sample)
  t.equal(resolveWatchlistPath(WATCHLIST_DEFAULT_PATH, '/somewhere/else'), sample)
  t.equal(resolveWatchlistPath('lists/mine.csv', '/srv/app'), resolve('/srv/app', 'lists/mine.csv'))
  t.equal(resolveWatchlistPath('/abs/mine.json', '/srv/app'), resolve('/abs/mine.json'))
  t.chdir(join(here, 'fixtures'))
  for (const setting of [undefined, WATCHLIST_DEFAULT_PATH]) {
    const instance = await watchlistSource.start(config(setting), deps)
    t.equal(instance.health().detail, '11 entries from watchlist.sample.csv')
  }
  const instance = await watchlistSource.start(config(undefined), deps)
  const look = (raw: string): Promise<unknown> => instance.lookup(ind(raw), ctx)
  t.match(await look('203.0.113.77'), {
    verdict: 'malicious',
    score: 90,
    summary: 'listed as malicious: TEST-NET-3 used in examples',
  })
  t.match(await look('198.51.100.7'), { verdict: 'suspicious' })
  t.match(await look('2001:db8:abcd::1'), { verdict: 'suspicious', facts: { match_kind: 'cidr' } })
  t.match(await look('hxxps://login.phish[.]example/'), {
    verdict: 'malicious',
    facts: { entry: '*.phish.example', match_kind: 'host of url' },
  })
  t.match(await look('http://bad.example/login'), {
    verdict: 'malicious',
    facts: { entry: 'http://bad.example/login', match_kind: 'url' },
  })
  t.match(await look('44d88612fea8a8f36de82e1278abb02f'), { verdict: 'malicious', confidence: 100 })
  t.match(await look('8.8.8.8'), { verdict: 'benign', score: 0, summary: 'listed as benign: Google Public DNS' })
  t.match(await look('1.1.1.1'), { verdict: 'benign' })
  t.match(await look('9.9.9.9'), { verdict: 'unknown', facts: { match: false } })
})

t.test('declaration', async (t) => {
  t.equal(watchlistSource.id, 'watchlist')
  t.equal(watchlistSource.kind, 'embedded')
  t.equal(watchlistSource.supports.length, 7)
})
