import ipaddr from 'ipaddr.js'
import { type Check, fail, pass, quote } from './check.js'

/** A parsed IP address: its canonical text and bytes (bytes are what CIDR masking works on). */
interface ParsedIp {
  readonly version: 4 | 6
  readonly value: string
  readonly bytes: readonly number[]
}

export type IpParse = { readonly ok: true; readonly ip: ParsedIp } | { readonly ok: false; readonly why: string }

const EXPECTED = 'expected an IPv4 dotted quad or an IPv6 address'
/** Longest IPv6 text: 8 groups of 4 hex digits and 7 colons, or 6 groups plus a dotted quad (45). */
const MAX_IPV6_LENGTH = 45
const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/**
 * Strict IPv4: exactly four decimal octets. Leading zeros are refused because inet_aton reads them as octal,
 * so "010.1.1.1" means 8.1.1.1 to some tools and 10.1.1.1 to others.
 */
export const parseIpv4 = (text: string): IpParse => {
  const match = DOTTED_QUAD.exec(text)
  if (match === null) return { ok: false, why: EXPECTED }
  const octets: number[] = []
  for (const octet of match.slice(1, 5) as string[]) {
    if (octet.length > 1 && octet.startsWith('0')) {
      return { ok: false, why: `octet ${quote(octet)} has a leading zero (ambiguous: octal or decimal)` }
    }
    const n = Number(octet)
    if (n > 255) return { ok: false, why: `octet ${n} is above 255` }
    octets.push(n)
  }
  return { ok: true, ip: { version: 4, value: octets.join('.'), bytes: octets } }
}

/** An embedded dotted quad ("::ffff:1.2.3.4") as two hex groups, checked as strictly as a plain IPv4 address. */
const embeddedIpv4AsHex = (text: string): IpParse | string => {
  const lastColon = text.lastIndexOf(':')
  const tail = text.slice(lastColon + 1)
  if (!tail.includes('.')) return text
  const v4 = parseIpv4(tail)
  if (!v4.ok) return { ok: false, why: `embedded IPv4 part ${quote(tail)}: ${v4.why}` }
  const [a, b, c, d] = v4.ip.bytes as [number, number, number, number]
  // ipaddr.js would read "::1.2.3.4" as "::ffff:1.2.3.4" and accept hex octets, so it gets plain hex groups.
  return `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
}

export const parseIpv6 = (text: string): IpParse => {
  if (text.includes('%')) {
    const zone = quote(text.slice(text.indexOf('%')))
    return {
      ok: false,
      why: `it has a zone id (${zone}), which only has meaning on one machine; give the address without it`,
    }
  }
  if (text.length > MAX_IPV6_LENGTH)
    return { ok: false, why: `it is too long for an IPv6 address (${text.length} characters)` }
  const hex = embeddedIpv4AsHex(text)
  if (typeof hex !== 'string') return hex
  if (!/^[0-9a-fA-F:]+$/.test(hex) || !ipaddr.IPv6.isValid(hex)) return { ok: false, why: EXPECTED }
  const address = ipaddr.IPv6.parse(hex)
  return { ok: true, ip: { version: 6, value: address.toRFC5952String(), bytes: address.toByteArray() } }
}

/** IPv4 or IPv6 (IPv6 optionally in square brackets, as written in URLs). */
const parseIp = (text: string): IpParse => {
  if (text.startsWith('[') && text.endsWith(']')) {
    const inner = text.slice(1, -1)
    if (!inner.includes(':')) return { ok: false, why: 'square brackets are only used around IPv6 addresses' }
    return parseIpv6(inner)
  }
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text)
}

export const checkAddress = (text: string): Check => {
  const parsed = parseIp(text)
  return parsed.ok ? pass(parsed.ip.value) : fail(parsed.why)
}

/** The text of an IP of the given version from its bytes. */
const ipFromBytes = (bytes: number[]): string => {
  const address = ipaddr.fromByteArray(bytes)
  return address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString()
}

const maskBytes = (bytes: readonly number[], prefix: number): number[] =>
  bytes.map((byte, i) => {
    const bitsKept = Math.max(0, Math.min(8, prefix - i * 8))
    return byte & ((0xff << (8 - bitsKept)) & 0xff)
  })

/** "<ip>/<prefix>", canonicalised to the network address: "10.1.2.3/8" -> "10.0.0.0/8". */
export const checkCidr = (text: string): Check => {
  const slash = text.indexOf('/')
  if (slash === -1) return fail('expected <ip>/<prefix>, e.g. 10.0.0.0/8')
  const ipText = text.slice(0, slash)
  const prefixText = text.slice(slash + 1)
  if (prefixText.includes('/')) return fail("it contains more than one '/'")
  const ip = parseIp(ipText)
  if (!ip.ok) return fail(`network ${quote(ipText)}: ${ip.why}`)
  if (!/^\d{1,3}$/.test(prefixText)) return fail(`prefix ${quote(prefixText)} is not a number`)
  const prefix = Number(prefixText)
  const maxPrefix = ip.ip.version === 4 ? 32 : 128
  if (prefix > maxPrefix) return fail(`prefix ${prefix} is above ${maxPrefix}`)
  return pass(`${ipFromBytes(maskBytes(ip.ip.bytes, prefix))}/${prefix}`)
}
