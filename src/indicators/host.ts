import { domainToASCII } from 'node:url'
import { type Check, fail, pass, quote } from './check.js'

const MAX_HOST_LENGTH = 253
const MAX_LABEL_LENGTH = 63
/**
 * Non-ASCII input longer than this is refused before IDN conversion (which can only shrink it by dropping ignorable
 * characters).
 */
const MAX_IDN_INPUT_LENGTH = MAX_HOST_LENGTH * 4
/** Underscore is allowed: it is common in real hostnames (SRV-style, DKIM, CDN hosts) even if RFC 952 forbids it. */
const LABEL_CHARS = /^[a-z0-9_-]+$/
const ALPHABETIC_TLD = /^[a-z]+$/
const PUNYCODE_TLD = /^xn--[a-z0-9-]+$/
const NON_ASCII = /[^\u0000-\u007f]/

const firstBadChar = (label: string): string => {
  for (const ch of label) if (!/[a-z0-9_-]/.test(ch)) return ch
  return ''
}

/** An ASCII "xn--" label must decode as punycode, or it is not a real IDN label. */
const isValidPunycodeLabel = (label: string): boolean => {
  try {
    return domainToASCII(label) !== ''
  } catch {
    return false
  }
}

const checkLabel = (label: string): string | undefined => {
  if (label.length === 0) return 'it has an empty label'
  if (label.length > MAX_LABEL_LENGTH) return `label ${quote(label)} is longer than ${MAX_LABEL_LENGTH} characters`
  if (!LABEL_CHARS.test(label)) {
    return `label ${quote(label)} contains ${quote(firstBadChar(label))} (allowed: a-z, 0-9, '-', '_')`
  }
  if (label.startsWith('-')) return `label ${quote(label)} starts with a hyphen`
  if (label.endsWith('-')) return `label ${quote(label)} ends with a hyphen`
  if (label.startsWith('xn--') && !isValidPunycodeLabel(label)) return `label ${quote(label)} is not valid punycode`
  return undefined
}

/** The ASCII (punycode) form of a hostname, or why it has none. ASCII input is only lowercased. */
const toAsciiHost = (host: string): Check => {
  if (!NON_ASCII.test(host)) return pass(host.toLowerCase())
  if (host.length > MAX_IDN_INPUT_LENGTH) return fail(`it is longer than ${MAX_HOST_LENGTH} characters`)
  let ascii = ''
  try {
    ascii = domainToASCII(host)
  } catch {
    ascii = ''
  }
  return ascii === '' ? fail('it is not a valid internationalised domain name') : pass(ascii)
}

/**
 * A DNS hostname: lowercased, one trailing dot dropped, IDN to punycode. At least two labels, and an alphabetic
 * (or punycode) last label, so numbers like "1.2.3" are never taken for hosts.
 */
export const checkHost = (text: string): Check => {
  const withoutRoot = text.endsWith('.') ? text.slice(0, -1) : text
  const ascii = toAsciiHost(withoutRoot)
  if (!ascii.ok) return ascii
  const host = ascii.value
  const labels = host.split('.')
  for (const label of labels) {
    const problem = checkLabel(label)
    if (problem !== undefined) return fail(problem)
  }
  if (host.length > MAX_HOST_LENGTH) return fail(`it is ${host.length} characters long, above ${MAX_HOST_LENGTH}`)
  if (labels.length < 2) return fail('it needs at least two labels, e.g. example.com')
  const tld = labels[labels.length - 1] as string
  if (!ALPHABETIC_TLD.test(tld) && !PUNYCODE_TLD.test(tld)) {
    return fail(`top-level label ${quote(tld)} is not alphabetic`)
  }
  return pass(host)
}
