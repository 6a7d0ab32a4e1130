/**
 * A binary snapshot of loaded range tables, so a service start reads a few typed arrays instead of parsing
 * 80 MB of CSV (about half of start-up). Keyed by the source files' paths, sizes and modification times and by the
 * format version: a changed file or format simply misses, and the CSV is parsed (and the snapshot rewritten).
 * Best effort: a snapshot that cannot be read or written is ignored, never an error.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type IpFamily, type IpRangeTable } from './ip-range-table.js'
import { StringTable } from './string-table.js'

const FORMAT = 'tc-enrich-ranges-v1'

interface Header {
  readonly format: string
  readonly tables: readonly { readonly family: IpFamily; readonly size: number; readonly overlaps: number }[]
  /** Byte lengths of each array that follows, in order. */
  readonly lengths: readonly number[]
}

export const snapshotKey = async (files: readonly string[]): Promise<string> => {
  const hash = createHash('sha256').update(FORMAT)
  for (const file of files) {
    const st = await stat(file)
    hash.update(`\0${file}\0${st.size}\0${st.mtimeMs}`)
  }
  return hash.digest('hex').slice(0, 16)
}

const arraysOf = (tables: readonly IpRangeTable[], orgs: StringTable): Uint8Array[] => {
  const { bytes, offsets } = orgs.parts()
  const views = tables.flatMap((t) => [t.starts, t.ends, t.asns, t.orgIds])
  return [...views, offsets].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).concat([bytes])
}

export const writeSnapshot = async (
  dir: string,
  key: string,
  tables: readonly IpRangeTable[],
  orgs: StringTable,
): Promise<void> => {
  const arrays = arraysOf(tables, orgs)
  const header: Header = {
    format: FORMAT,
    tables: tables.map((t) => ({ family: t.family, size: t.size, overlaps: t.overlaps })),
    lengths: arrays.map((a) => a.byteLength),
  }
  const head = Buffer.from(JSON.stringify(header))
  const size = Buffer.alloc(4)
  size.writeUInt32LE(head.length)
  // Arrays start on 4-byte boundaries so they can be viewed in place when read back.
  const pad = Buffer.alloc((4 - ((4 + head.length) % 4)) % 4, 0x20)
  await mkdir(dir, { recursive: true })
  const path = join(dir, `ranges-${key}.bin`)
  const partial = `${path}.${process.pid}.tmp`
  await writeFile(partial, Buffer.concat([size, head, pad, ...arrays]))
  await rename(partial, path) // atomic: a concurrent reader sees the old file or the whole new one
}

/** The tables and their shared names, or undefined when there is no usable snapshot for this key. */
export const readSnapshot = async (
  dir: string,
  key: string,
): Promise<{ tables: IpRangeTable[]; orgs: StringTable } | undefined> => {
  let buf: Buffer
  try {
    buf = await readFile(join(dir, `ranges-${key}.bin`))
  } catch {
    return undefined
  }
  try {
    const headLength = buf.readUInt32LE(0)
    const header = JSON.parse(buf.toString('utf8', 4, 4 + headLength)) as Header
    if (header.format !== FORMAT) return undefined
    let at = 4 + headLength + ((4 - ((4 + headLength) % 4)) % 4)
    // Copy into an aligned buffer of our own so every Uint32Array view is valid.
    const body = new Uint8Array(buf.length - at)
    body.set(buf.subarray(at))
    at = 0
    const next = (i: number): Uint8Array => {
      const length = header.lengths[i]
      if (length === undefined || at + length > body.length) throw new Error('snapshot is truncated')
      const view = body.subarray(at, at + length)
      at += length
      return view
    }
    const u32 = (v: Uint8Array): Uint32Array => new Uint32Array(v.buffer, v.byteOffset, v.byteLength / 4)
    let i = 0
    const raw = header.tables.map((t) => ({
      ...t,
      starts: u32(next(i++)),
      ends: u32(next(i++)),
      asns: u32(next(i++)),
      orgIds: u32(next(i++)),
    }))
    const offsets = u32(next(i++)) // written before the name bytes
    const orgs = StringTable.fromParts(next(i), offsets)
    return { tables: raw.map((t) => ({ ...t, orgs })), orgs }
  } catch {
    return undefined
  }
}
