import { type Check, fail, pass, quote } from './check.js'

const MAX_ASN = 4294967295
/** "AS15169", "ASN15169", "AS 15169" (any case). */
const PREFIXED = /^asn? ?(\d+)$/i
const BARE = /^\d+$/

export interface AsnOptions {
  /** A bare number ("15169") is an ASN only when the caller said the type is ASN: in Auto it could be anything. */
  readonly allowBareNumber: boolean
}

export const checkAsn = (text: string, options: AsnOptions): Check => {
  const digits = PREFIXED.exec(text)?.[1] ?? (options.allowBareNumber && BARE.test(text) ? text : undefined)
  if (digits === undefined) return fail('expected AS<number>, e.g. AS15169')
  // Compare as text first so a thousand-digit number is not turned into a float.
  const significant = digits.replace(/^0+(?=\d)/, '')
  if (significant.length > 10 || Number(significant) > MAX_ASN) {
    return fail(`AS number ${quote(significant)} is above ${MAX_ASN}`)
  }
  return pass(`ASN${Number(significant)}`)
}
