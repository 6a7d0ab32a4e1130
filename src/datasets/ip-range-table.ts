/**
 * A compact, sorted table of IP ranges (start, end, ASN, organisation) read from an ip-location-db style CSV
 * (`start,end,asn,org`), and pure lookups over it.
 *
 * Layout: parallel typed arrays instead of one object per row (400k objects would cost ~10x the memory and
 * the GC time). An address is a run of Uint32 words, most significant first: 1 word for IPv4, 4 for IPv6.
 * IPv6 keeps all 128 bits because the dataset does split ranges inside a /64 (183 rows in the 2026-06-17 file).
 */
import { readFile } from 'node:fs/promises'

export type IpFamily = 4 | 6

const LF = 10
const CR = 13
const COMMA = 44
const QUOTE = 34
const DOT = 46
const COLON = 58
const ZERO = 48
const TWO_POW_32 = 4294967296

/** Uint32 words per address. */
const WORDS = { 4: 1, 6: 4 } as const

/**
 * Organisation names stored once each, as UTF-8 bytes in one growing buffer; rows keep an id. Interning works on
 * the CSV's bytes (an open-addressing hash table over FNV-1a hashes), so loading creates no string per row and
 * holding 80k names costs their bytes rather than 80k heap strings. A name is decoded only when a lookup reports it.
 * One table serves both the IPv4 and IPv6 files (most names repeat).
 */
export class StringTable {
  private bytes = Buffer.alloc(1 << 20)
  private used = 0
  /** Name i is bytes [offsets[i], offsets[i + 1]). */
  private offsets: Uint32Array = new Uint32Array(1 << 14)
  private hashes: Uint32Array = new Uint32Array(1 << 14)
  private count = 0
  /** Slot -> id + 1 (0 = empty); size a power of two, kept at most half full. */
  private slots = new Int32Array(1 << 15)

  get size(): number {
    return this.count
  }

  /** Bytes held (names, offsets, hashes and slots). */
  get byteLength(): number {
    return this.bytes.length + this.offsets.byteLength + this.hashes.byteLength + this.slots.byteLength
  }

  get(id: number): string {
    if (!(id >= 0 && id < this.count)) throw new RangeError(`no name ${id}`)
    return this.bytes.toString('utf8', this.offsets[id]!, this.offsets[id + 1]!)
  }

  /** Interns plain text (tests, hand-built tables). */
  intern(text: string): number {
    const buf = Buffer.from(text, 'utf8')
    return this.internBytes(buf, 0, buf.length)
  }

  /** Interns buf[from, to) as UTF-8; with `unescapeQuotes`, each "" in it stands for one quote. */
  internBytes(buf: Uint8Array, from: number, to: number, unescapeQuotes = false): number {
    if (unescapeQuotes) ({ buf, from, to } = collapseQuotes(buf, from, to))
    let hash = 0x811c9dc5
    for (let i = from; i < to; i++) hash = Math.imul(hash ^ buf[i]!, 0x01000193)
    hash >>>= 0
    const mask = this.slots.length - 1
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!
      if (entry === 0) {
        const id = this.append(buf, from, to, hash)
        this.slots[slot] = id + 1
        if (this.count * 2 > this.slots.length) this.rehash()
        return id
      }
      const id = entry - 1
      if (this.hashes[id] === hash && this.sameBytes(id, buf, from, to)) return id
    }
  }

  private sameBytes(id: number, buf: Uint8Array, from: number, to: number): boolean {
    const at = this.offsets[id]!
    if (this.offsets[id + 1]! - at !== to - from) return false
    for (let i = 0; i < to - from; i++) if (this.bytes[at + i] !== buf[from + i]) return false
    return true
  }

  private append(buf: Uint8Array, from: number, to: number, hash: number): number {
    const length = to - from
    if (this.used + length > this.bytes.length) {
      const bigger = Buffer.alloc(Math.max(this.bytes.length * 2, this.used + length))
      this.bytes.copy(bigger, 0, 0, this.used)
      this.bytes = bigger
    }
    this.bytes.set(buf.subarray(from, to), this.used)
    this.used += length
    if (this.count + 2 > this.offsets.length) {
      this.offsets = grow(this.offsets, this.count + 2)
      this.hashes = grow(this.hashes, this.count + 2)
    }
    const id = this.count++
    this.hashes[id] = hash
    this.offsets[id + 1] = this.used
    return id
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2)
    const mask = slots.length - 1
    for (let id = 0; id < this.count; id++) {
      let slot = this.hashes[id]! & mask
      while (slots[slot] !== 0) slot = (slot + 1) & mask
      slots[slot] = id + 1
    }
    this.slots = slots
  }

  /** The names as stored: UTF-8 bytes and the offsets between them (for a snapshot). */
  parts(): { readonly bytes: Uint8Array; readonly offsets: Uint32Array } {
    return { bytes: this.bytes.subarray(0, this.used), offsets: this.offsets.subarray(0, this.count + 1) }
  }

  /** A table holding exactly these names, in this order (ids are kept), e.g. read back from a snapshot. */
  static fromParts(bytes: Uint8Array, offsets: Uint32Array): StringTable {
    const table = new StringTable()
    for (let id = 0; id + 1 < offsets.length; id++) {
      if (table.internBytes(bytes, offsets[id]!, offsets[id + 1]!) !== id) throw new Error(`snapshot names: name ${id} is repeated`)
    }
    table.trim()
    return table
  }

  /** Drops spare capacity once loading is done. */
  trim(): void {
    this.bytes = Buffer.from(this.bytes.subarray(0, this.used))
    this.offsets = this.offsets.slice(0, this.count + 1)
    this.hashes = this.hashes.slice(0, this.count)
  }
}

const grow = (arr: Uint32Array, atLeast: number): Uint32Array<ArrayBuffer> => {
  const bigger = new Uint32Array(Math.max(atLeast, arr.length * 2))
  bigger.set(arr)
  return bigger
}

const collapseQuotes = (buf: Uint8Array, from: number, to: number): { buf: Uint8Array; from: number; to: number } => {
  const out = new Uint8Array(to - from)
  let n = 0
  for (let i = from; i < to; i++) {
    out[n++] = buf[i]!
    if (buf[i] === QUOTE && buf[i + 1] === QUOTE && i + 1 < to) i++
  }
  return { buf: out, from: 0, to: n }
}

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

// ---------------------------------------------------------------------------------------------------------
// Address text <-> words

const IPV4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/

/** "8.8.8.8" -> 134744072; undefined unless a plain dotted quad. */
export const parseIpv4 = (text: string): number | undefined => {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  let n = 0
  for (const p of parts) {
    if (!IPV4_PART.test(p)) return undefined
    n = n * 256 + Number(p)
  }
  return n
}

export const formatIpv4 = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

/** Colon-separated hex groups; with `dottedTail`, the last may be a dotted quad (two groups). */
const parseGroups = (text: string, dottedTail: boolean): number[] | undefined => {
  if (text === '') return []
  const groups: number[] = []
  const parts = text.split(':')
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!
    if (dottedTail && i === parts.length - 1 && p.includes('.')) {
      const v4 = parseIpv4(p)
      if (v4 === undefined) return undefined
      groups.push(v4 >>> 16, v4 & 0xffff)
    } else if (HEX_GROUP.test(p)) {
      groups.push(parseInt(p, 16))
    } else {
      return undefined
    }
  }
  return groups
}

/** IPv6 text (any valid form, optionally with a trailing dotted quad) -> 4 words; undefined if invalid. */
export const parseIpv6 = (text: string): Uint32Array | undefined => {
  const gap = text.indexOf('::')
  let groups: number[] | undefined
  if (gap === -1) {
    groups = parseGroups(text, true)
    if (groups === undefined || groups.length !== 8) return undefined
  } else {
    if (text.indexOf('::', gap + 1) !== -1) return undefined
    const head = parseGroups(text.slice(0, gap), false)
    const tail = parseGroups(text.slice(gap + 2), true)
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail]
  }
  const words = new Uint32Array(4)
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0
  return words
}

/** 4 words (from `offset`) -> RFC 5952 text: lower case, no leading zeros, longest zero run (2+ groups) as "::". */
export const formatIpv6 = (words: ArrayLike<number>, offset = 0): string => {
  const groups: number[] = []
  for (let i = 0; i < 4; i++) groups.push(words[offset + i]! >>> 16, words[offset + i]! & 0xffff)
  let bestAt = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestAt = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':')
  if (bestAt === -1) return hex(groups)
  return `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLen))}`
}

/** True for ::ffff:a.b.c.d (an IPv4 address written as IPv6). */
export const isIpv4Mapped = (words: ArrayLike<number>): boolean => words[0] === 0 && words[1] === 0 && words[2] === 0xffff

// ---------------------------------------------------------------------------------------------------------
// Lookup (pure)

/** Sign of (address in `a` at `aAt`) - (address in `b` at `bAt`), comparing `w` words. */
const compareAt = (a: ArrayLike<number>, aAt: number, b: ArrayLike<number>, bAt: number, w: number): number => {
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
  const format = table.family === 4 ? (arr: Uint32Array) => formatIpv4(arr[i]!) : (arr: Uint32Array) => formatIpv6(arr, i * 4)
  return { start: format(table.starts), end: format(table.ends), asn: table.asns[i]!, org: table.orgs.get(table.orgIds[i]!) }
}

/** The range holding `key`, or undefined when the address is in no range (private, unannounced, ...). */
export const lookupRange = (table: IpRangeTable, key: ArrayLike<number>): IpRange | undefined => {
  const i = findRangeIndex(table, key)
  return i === -1 ? undefined : rangeAt(table, i)
}

// ---------------------------------------------------------------------------------------------------------
// CSV parsing, by hand over bytes: a known 4-field format, so no per-row objects and one string per new name.

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
const parseUint128 = (buf: Buffer, from: number, to: number, out: Uint32Array, at: number, limbs: Float64Array): boolean => {
  if (from === to || to - from > 39) return false
  limbs.fill(0)
  for (let i = from; i < to; ) {
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
    const n = contains(buf, from, to, DOT) ? parseIpv4(buf.toString('latin1', from, to)) ?? -1 : parseUint32(buf, from, to)
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
      if (unsorted) throw new RangeFileError(file, line, 'rows are not sorted by start (this row starts before the one above)')
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
