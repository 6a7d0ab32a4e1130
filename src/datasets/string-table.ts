import { grow } from './grow.js'

const QUOTE = 34

/** A quoted CSV field's bytes with each doubled quote collapsed to one. */
const collapseQuotes = (buf: Uint8Array, from: number, to: number): { buf: Uint8Array; from: number; to: number } => {
  const out = new Uint8Array(to - from)
  let n = 0
  for (let i = from; i < to; i++) {
    out[n++] = buf[i]!
    if (buf[i] === QUOTE && buf[i + 1] === QUOTE && i + 1 < to) i++
  }
  return { buf: out, from: 0, to: n }
}

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
      if (table.internBytes(bytes, offsets[id]!, offsets[id + 1]!) !== id)
        throw new Error(`snapshot names: name ${id} is repeated`)
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
