import { type Check, fail, pass, quote } from './check.js'
import { checkHost } from './host.js'

const MAX_LOCAL_LENGTH = 64
/** RFC 5322 dot-atom characters; quoted local parts are not supported. */
const LOCAL_CHARS = /^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+$/i

const checkLocalPart = (local: string): string | undefined => {
  if (local.length === 0) return "it has nothing before the '@'"
  if (local.length > MAX_LOCAL_LENGTH) return `local part is longer than ${MAX_LOCAL_LENGTH} characters`
  if (!LOCAL_CHARS.test(local)) {
    const bad = [...local].find((ch) => !LOCAL_CHARS.test(ch)) ?? ''
    return `local part ${quote(local)} contains ${quote(bad)}`
  }
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return `local part ${quote(local)} has a misplaced '.'`
  }
  return undefined
}

/** local@domain, lowercased; the domain must be a valid Host (IDN converted to punycode). */
export const checkEmail = (text: string): Check => {
  const at = text.indexOf('@')
  if (at === -1) return fail('expected local@domain')
  if (text.indexOf('@', at + 1) !== -1) return fail("it contains more than one '@'")
  const local = text.slice(0, at)
  const domain = text.slice(at + 1)
  const localProblem = checkLocalPart(local)
  if (localProblem !== undefined) return fail(localProblem)
  if (domain.length === 0) return fail("it has nothing after the '@'")
  const host = checkHost(domain)
  if (!host.ok) return fail(`domain ${quote(domain)}: ${host.why}`)
  return pass(`${local.toLowerCase()}@${host.value}`)
}
