import { type Check, fail, pass, quote } from './check.js'
import { parseIpv4, parseIpv6 } from './address.js'
import { checkHost } from './host.js'

/** "<scheme>://" per RFC 3986's scheme grammar. */
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/
const LOOKS_LIKE_IPV4 = /^[0-9.]+$/
const MAX_PORT = 65535

const canonicalHost = (host: string): Check => {
  const parsed = LOOKS_LIKE_IPV4.test(host) ? parseIpv4(host) : undefined
  if (parsed !== undefined) return parsed.ok ? pass(parsed.ip.value) : fail(parsed.why)
  return checkHost(host)
}

/** Splits "host:port" / "[v6]:port" and canonicalises the host; the port is kept as written. */
const canonicalHostPort = (hostPort: string): Check => {
  if (hostPort.length === 0) return fail('it has no host')
  let host: string
  let portPart: string
  let canonical: Check
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']')
    if (close === -1) return fail("its IPv6 host has no closing ']'")
    host = hostPort.slice(1, close)
    portPart = hostPort.slice(close + 1)
    if (portPart !== '' && !portPart.startsWith(':')) return fail(`unexpected ${quote(portPart)} after the IPv6 host`)
    const v6 = parseIpv6(host)
    canonical = v6.ok ? pass(`[${v6.ip.value}]`) : fail(v6.why)
  } else {
    const colon = hostPort.indexOf(':')
    if (colon !== -1 && hostPort.indexOf(':', colon + 1) !== -1) return fail('an IPv6 host must be in square brackets')
    host = colon === -1 ? hostPort : hostPort.slice(0, colon)
    portPart = colon === -1 ? '' : hostPort.slice(colon)
    canonical = canonicalHost(host)
  }
  if (!canonical.ok) return fail(`host ${quote(host)}: ${canonical.why}`)
  const port = portPart.slice(1)
  if (!/^\d*$/.test(port)) return fail(`port ${quote(port)} is not a number`)
  if (port !== '' && Number(port) > MAX_PORT) return fail(`port ${Number(port)} is above ${MAX_PORT}`)
  return pass(canonical.value + portPart)
}

/** Only the scheme and host are canonicalised; path, query and fragment are kept byte for byte (no re-encoding). */
const checkWithScheme = (text: string, scheme: string): Check => {
  const afterScheme = text.slice(scheme.length + 3)
  const authorityEnd = afterScheme.search(/[/?#]/)
  const authority = authorityEnd === -1 ? afterScheme : afterScheme.slice(0, authorityEnd)
  const rest = authorityEnd === -1 ? '' : afterScheme.slice(authorityEnd)
  const at = authority.lastIndexOf('@')
  const userInfo = at === -1 ? '' : authority.slice(0, at + 1)
  const hostPort = canonicalHostPort(authority.slice(at + 1))
  if (!hostPort.ok) return hostPort
  return pass(`${scheme.toLowerCase()}://${userInfo}${hostPort.value}${rest}`)
}

/**
 * "evil.com/path": a URL only when what comes before the first '/' is a real hostname. Accepted for an explicit
 * URL too, so every canonical URL value (including these) normalises again to itself.
 */
const checkSchemeless = (text: string): Check => {
  const slash = text.indexOf('/')
  if (slash === -1) return fail('it has no scheme, e.g. http://')
  const host = checkHost(text.slice(0, slash))
  if (!host.ok) return fail(`it has no scheme and ${quote(text.slice(0, slash))} is not a hostname`)
  return pass(host.value + text.slice(slash))
}

export const checkUrl = (text: string): Check => {
  if (WHITESPACE_OR_CONTROL.test(text)) return fail('it contains whitespace or a control character')
  const scheme = SCHEME.exec(text)?.[1]
  if (scheme !== undefined) return checkWithScheme(text, scheme)
  return checkSchemeless(text)
}
