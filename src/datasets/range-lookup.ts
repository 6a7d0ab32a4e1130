/** Lookups over a loaded IpRangeTable: a binary search by address, rows as text. Pure. */
import { formatIpv4, formatIpv6 } from './ip-address.js'
import type { IpRange, IpRangeTable } from './ip-range-table.js'

/** Sign of (address in `a` at `aAt`) - (address in `b` at `bAt`), comparing `w` words. */
export const compareAt = (a: ArrayLike<number>, aAt: number, b: ArrayLike<number>, bAt: number, w: number): number => {
  for (let i = 0; i < w; i++) {
    const x = a[aAt + i]!
    const y = b[bAt + i]!
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

/**
 * Index of the row containing the address `key` (1 word for IPv4, 4 for IPv6), or -1.
 * Binary search for the last row starting at or before the key, then check its end.
 */
export const findRangeIndex = (table: IpRangeTable, key: ArrayLike<number>): number => {
  if (table.family === 4) return findIpv4RangeIndex(table, key[0]!)
  let lo = 0
  let hi = table.size - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    if (compareAt(table.starts, mid * 4, key, 0, 4) <= 0) {
      found = mid
      lo = mid + 1
    } else {
      hi = mid - 1
    }
  }
  if (found === -1) return -1
  return compareAt(table.ends, found * 4, key, 0, 4) >= 0 ? found : -1
}

/** The same search over one word per address: the common case, kept free of the word loop. */
const findIpv4RangeIndex = (table: IpRangeTable, address: number): number => {
  const starts = table.starts
  let lo = 0
  let hi = table.size - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    if (starts[mid]! <= address) {
      found = mid
      lo = mid + 1
    } else {
      hi = mid - 1
    }
  }
  return found !== -1 && table.ends[found]! >= address ? found : -1
}

/** Row `i` as text. */
export const rangeAt = (table: IpRangeTable, i: number): IpRange => {
  const format =
    table.family === 4 ? (arr: Uint32Array) => formatIpv4(arr[i]!) : (arr: Uint32Array) => formatIpv6(arr, i * 4)
  return {
    start: format(table.starts),
    end: format(table.ends),
    asn: table.asns[i]!,
    org: table.orgs.get(table.orgIds[i]!),
  }
}

/** The range holding `key`, or undefined when the address is in no range (private, unannounced, ...). */
export const lookupRange = (table: IpRangeTable, key: ArrayLike<number>): IpRange | undefined => {
  const i = findRangeIndex(table, key)
  return i === -1 ? undefined : rangeAt(table, i)
}
