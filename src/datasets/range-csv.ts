/** Range files (ip-location-db's `start,end,asn,org` CSV) -> an IpRangeTable, parsed by hand over bytes. */
import { readFile } from 'node:fs/promises'
import { parseIpv4, parseIpv6 } from './ip-address.js'
import { WORDS, type IpFamily, type IpRangeTable } from './ip-range-table.js'
import { compareAt } from './range-lookup.js'
import type { StringTable } from './string-table.js'

const LF = 10
const CR = 13
const COMMA = 44
const QUOTE = 34
const DOT = 46
const COLON = 58
const ZERO = 48
const TWO_POW_32 = 4294967296

/** A range file that cannot be used: names the file and, when it is about content, the line. */
export class RangeFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(line === undefined ? `${file}: ${problem}` : `${file}: line ${line}: ${problem}`, options)
    this.name = 'RangeFileError'
  }
}

const FIELDS = 4

/** Field spans of the current line: [start, end) per field and whether it contained "" escapes. */
interface Spans {
  readonly from: Int32Array
  readonly to: Int32Array
  readonly escaped: Uint8Array
}

/** Splits buf[from, to) into fields; returns a problem text, or undefined when the line has exactly 4 fields. */
const splitLine = (buf: Buffer, from: number, to: number, spans: Spans): string | undefined => {
  let field = 0
  let i = from
  for (;;) {
    if (field === FIELDS) return `expected ${FIELDS} fields, found more`
    if (i < to && buf[i] === QUOTE) {
      // Quoted: runs to the quote not followed by another quote; "" inside stands for one quote.
      let j = i + 1
      let escaped = 0
      for (;;) {
        const q = buf.indexOf(QUOTE, j)
        if (q === -1 || q >= to) return `unterminated quoted field ${field + 1}`
        if (q + 1 < to && buf[q + 1] === QUOTE) {
          escaped = 1
          j = q + 2
          continue
        }
        spans.from[field] = i + 1
        spans.to[field] = q
        spans.escaped[field] = escaped
        i = q + 1
        break
      }
      if (i < to && buf[i] !== COMMA) return `unexpected text after the closing quote of field ${field + 1}`
    } else {
      let j = i
      while (j < to && buf[j] !== COMMA) j++
      spans.from[field] = i
      spans.to[field] = j
      spans.escaped[field] = 0
      i = j
    }
    field++
    if (i >= to) break
    i++ // the comma
    if (i === to) {
      // A trailing comma opens one more, empty field.
      if (field === FIELDS) return `expected ${FIELDS} fields, found more`
      spans.from[field] = spans.to[field] = i
      spans.escaped[field] = 0
      field++
      break
    }
  }
  return field === FIELDS ? undefined : `expected ${FIELDS} fields, found ${field}`
}

/** Decimal digits buf[from, to) as a number < 2^32, or -1. */
const parseUint32 = (buf: Buffer, from: number, to: number): number => {
  if (from === to || to - from > 10) return -1
  let n = 0
  for (let i = from; i < to; i++) {
    const d = buf[i]! - ZERO
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n < TWO_POW_32 ? n : -1
}

/**
 * Decimal digits buf[from, to) as a 128-bit number into out[at..at+3]; false if not digits or too big.
 * Works in eight 16-bit limbs (in `limbs`, scratch) taking 9 digits at a time: limb * 1e9 + carry < 2^53 stays exact.
 */
const parseUint128 = (
  buf: Buffer,
  from: number,
  to: number,
  out: Uint32Array,
  at: number,
  limbs: Float64Array,
): boolean => {
  if (from === to || to - from > 39) return false
  limbs.fill(0)
  for (let i = from; i < to;) {
    const chunkEnd = Math.min(to, i + 9)
    let chunk = 0
    let scale = 1
    for (; i < chunkEnd; i++) {
      const d = buf[i]! - ZERO
      if (d < 0 || d > 9) return false
      chunk = chunk * 10 + d
      scale *= 10
    }
    let carry = chunk
    for (let k = 7; k >= 0; k--) {
      const x = limbs[k]! * scale + carry
      carry = Math.floor(x / 65536)
      limbs[k] = x - carry * 65536
    }
    if (carry !== 0) return false
  }
  for (let k = 0; k < 4; k++) out[at + k] = limbs[2 * k]! * 65536 + limbs[2 * k + 1]!
  return true
}

// A bounded loop: buf.indexOf would scan on to the end of the file when the byte is absent.
const contains = (buf: Buffer, from: number, to: number, byte: number): boolean => {
  for (let i = from; i < to; i++) if (buf[i] === byte) return true
  return false
}

/** Parses an address field (number or address text) into out[at..]; false if it is not one. */
const parseAddressField = (
  family: IpFamily,
  buf: Buffer,
  from: number,
  to: number,
  out: Uint32Array,
  at: number,
  limbs: Float64Array,
): boolean => {
  if (family === 4) {
    const n = contains(buf, from, to, DOT)
      ? (parseIpv4(buf.toString('latin1', from, to)) ?? -1)
      : parseUint32(buf, from, to)
    if (n < 0) return false
    out[at] = n
    return true
  }
  if (!contains(buf, from, to, COLON)) return parseUint128(buf, from, to, out, at, limbs)
  const words = parseIpv6(buf.toString('latin1', from, to))
  if (words === undefined) return false
  out.set(words, at)
  return true
}

/** A row's fields other than the addresses (those go straight into the table's arrays). */
interface RowFields {
  asn: number
  orgFrom: number
  orgTo: number
  escaped: boolean
}

/**
 * Fast path for the shape of every row of the -num files, `digits,digits,digits,name`: one pass, no field
 * table. Returns false for anything else (dotted or IPv6 text, quoted numbers, a problem), which then goes the
 * general way and gets its error message there.
 */
const readPlainRow = (
  buf: Buffer,
  from: number,
  to: number,
  w: number,
  starts: Uint32Array,
  ends: Uint32Array,
  at: number,
  limbs: Float64Array,
  fields: RowFields,
): boolean => {
  let i = from
  for (let f = 0; f < 3; f++) {
    const fieldFrom = i
    let n = 0
    for (; i < to; i++) {
      const d = buf[i]! - ZERO
      if (d < 0 || d > 9) break
      n = n * 10 + d
    }
    if (i === fieldFrom || i === to || buf[i] !== COMMA) return false
    if (f === 2 || w === 1) {
      if (i - fieldFrom > 10 || n >= TWO_POW_32) return false
      if (f === 2) fields.asn = n
      else (f === 0 ? starts : ends)[at] = n
    } else if (!parseUint128(buf, fieldFrom, i, f === 0 ? starts : ends, at, limbs)) {
      return false
    }
    i++
  }
  if (i < to && buf[i] === QUOTE) {
    const last = to - 1
    if (last === i || buf[last] !== QUOTE) return false
    let escaped = false
    for (let j = i + 1; j < last; j++) {
      if (buf[j] !== QUOTE) continue
      if (j + 1 >= last || buf[j + 1] !== QUOTE) return false
      escaped = true
      j++
    }
    fields.orgFrom = i + 1
    fields.orgTo = last
    fields.escaped = escaped
  } else {
    for (let j = i; j < to; j++) if (buf[j] === COMMA) return false
    fields.orgFrom = i
    fields.orgTo = to
    fields.escaped = false
  }
  return true
}

/** The general way: any quoting, numbers or address text. Returns a problem text, or undefined when fine. */
const readAnyRow = (
  buf: Buffer,
  from: number,
  to: number,
  family: IpFamily,
  starts: Uint32Array,
  ends: Uint32Array,
  at: number,
  limbs: Float64Array,
  spans: Spans,
  fields: RowFields,
): string | undefined => {
  const problem = splitLine(buf, from, to, spans)
  if (problem !== undefined) return problem
  if (!parseAddressField(family, buf, spans.from[0]!, spans.to[0]!, starts, at, limbs)) {
    return `start is not an IPv${family} address or number`
  }
  if (!parseAddressField(family, buf, spans.from[1]!, spans.to[1]!, ends, at, limbs)) {
    return `end is not an IPv${family} address or number`
  }
  const asn = parseUint32(buf, spans.from[2]!, spans.to[2]!)
  if (asn < 0) return 'asn is not a whole number below 2^32'
  fields.asn = asn
  fields.orgFrom = spans.from[3]!
  fields.orgTo = spans.to[3]!
  fields.escaped = spans.escaped[3] === 1
  return undefined
}

/** Lines in the file, not counting an empty one after the final newline. */
const countLines = (buf: Buffer): number => {
  let n = buf.length > 0 && buf[buf.length - 1] !== LF ? 1 : 0
  for (let at = buf.indexOf(LF); at !== -1; at = buf.indexOf(LF, at + 1)) n++
  return n
}

/**
 * Parses `start,end,asn,org` rows (IPv4: numbers or dotted quads; IPv6: 128-bit numbers or IPv6 text) into a
 * table, interning names in `orgs`. Blank lines are skipped; rows must be sorted by start. Throws a
 * RangeFileError naming `file` and the line for anything else.
 */
export const parseRangeCsv = (buf: Buffer, family: IpFamily, orgs: StringTable, file: string): IpRangeTable => {
  const w = WORDS[family]
  const capacity = countLines(buf)
  const starts = new Uint32Array(capacity * w)
  const ends = new Uint32Array(capacity * w)
  const asns = new Uint32Array(capacity)
  const orgIds = new Uint32Array(capacity)
  const spans: Spans = { from: new Int32Array(FIELDS), to: new Int32Array(FIELDS), escaped: new Uint8Array(FIELDS) }
  const limbs = new Float64Array(8)
  const fields: RowFields = { asn: 0, orgFrom: 0, orgTo: 0, escaped: false }

  let size = 0
  let overlaps = 0
  let line = 0
  let pos = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0 // UTF-8 byte order mark

  while (pos < buf.length) {
    line++
    let eol = buf.indexOf(LF, pos)
    if (eol === -1) eol = buf.length
    const lineEnd = eol > pos && buf[eol - 1] === CR ? eol - 1 : eol
    const lineStart = pos
    pos = eol + 1
    if (lineEnd === lineStart) continue

    const at = size * w
    if (!readPlainRow(buf, lineStart, lineEnd, w, starts, ends, at, limbs, fields)) {
      const problem = readAnyRow(buf, lineStart, lineEnd, family, starts, ends, at, limbs, spans, fields)
      if (problem !== undefined) throw new RangeFileError(file, line, problem)
    }
    // Order checks: sign of end - start, of previous start - start, of previous end - start.
    const prev = at - w
    const backwards = w === 1 ? ends[at]! < starts[at]! : compareAt(ends, at, starts, at, 4) < 0
    if (backwards) throw new RangeFileError(file, line, 'end is before start')
    if (size > 0) {
      const unsorted = w === 1 ? starts[prev]! > starts[at]! : compareAt(starts, prev, starts, at, 4) > 0
      if (unsorted)
        throw new RangeFileError(file, line, 'rows are not sorted by start (this row starts before the one above)')
      if (w === 1 ? ends[prev]! >= starts[at]! : compareAt(ends, prev, starts, at, 4) >= 0) overlaps++
    }
    asns[size] = fields.asn
    orgIds[size] = orgs.internBytes(buf, fields.orgFrom, fields.orgTo, fields.escaped)
    size++
  }
  if (size === 0) throw new RangeFileError(file, undefined, 'no ranges in the file')

  // Blank lines leave a little unused capacity; copy down so the table holds exactly its rows.
  const fit = (arr: Uint32Array, n: number): Uint32Array => (arr.length === n ? arr : arr.slice(0, n))
  return {
    family,
    size,
    starts: fit(starts, size * w),
    ends: fit(ends, size * w),
    asns: fit(asns, size),
    orgIds: fit(orgIds, size),
    orgs,
    overlaps,
  }
}

/** Reads and parses a range file; every failure is a RangeFileError naming the file (and line). */
export const loadRangeFile = async (path: string, family: IpFamily, orgs: StringTable): Promise<IpRangeTable> => {
  let buf: Buffer
  try {
    buf = await readFile(path)
  } catch (err) {
    throw new RangeFileError(path, undefined, `cannot read: ${(err as Error).message}`, { cause: err })
  }
  return parseRangeCsv(buf, family, orgs, path)
}
