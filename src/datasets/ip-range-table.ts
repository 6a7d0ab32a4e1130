/**
 * The shape of a compact, sorted table of IP ranges (start, end, ASN, organisation). Reading one: range-csv.ts;
 * searching it: range-lookup.ts; address text: ip-address.ts; organisation names: string-table.ts.
 *
 * Layout: parallel typed arrays instead of one object per row (400k objects would cost ~10x the memory and
 * the GC time). An address is a run of Uint32 words, most significant first: 1 word for IPv4, 4 for IPv6.
 * IPv6 keeps all 128 bits because the dataset does split ranges inside a /64 (183 rows in the 2026-06-17 file).
 */
import type { StringTable } from './string-table.js'

export type IpFamily = 4 | 6

/** Uint32 words per address. */
export const WORDS = { 4: 1, 6: 4 } as const

export interface IpRangeTable {
  readonly family: IpFamily
  readonly size: number
  /** Row i's start is words [i*w, (i+1)*w), w = 1 (IPv4) or 4 (IPv6). Sorted by start. */
  readonly starts: Uint32Array
  /** Inclusive ends, same layout. */
  readonly ends: Uint32Array
  readonly asns: Uint32Array
  /** Id in `orgs`. */
  readonly orgIds: Uint32Array
  readonly orgs: StringTable
  /**
   * Rows starting inside the previous row. The later row wins from its start on; a row nested wholly inside
   * another would hide the outer row's tail (the 2026-06-17 data has one partial overlap in IPv4, none nested).
   */
  readonly overlaps: number
}

/** One row, as text: what a finding reports. */
export interface IpRange {
  readonly start: string
  readonly end: string
  readonly asn: number
  readonly org: string
}
