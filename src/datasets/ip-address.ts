/** IP address text <-> Uint32 words (1 for IPv4, 4 for IPv6, most significant first). Pure. */

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
  for (let i = 0; i < 8;) {
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
export const isIpv4Mapped = (words: ArrayLike<number>): boolean =>
  words[0] === 0 && words[1] === 0 && words[2] === 0xffff
