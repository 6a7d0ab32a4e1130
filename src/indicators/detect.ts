import type { IndicatorType } from './types.js'
import type { Check } from './check.js'
import { checkAddress, checkCidr } from './address.js'
import { checkAsn } from './asn.js'
import { checkEmail } from './email.js'
import { checkFileHash } from './file-hash.js'
import { checkHost } from './host.js'
import { checkUrl } from './url.js'

/** Whether the caller named the type (explicit) or asked us to guess it (auto): a guess needs stronger evidence. */
export type CheckMode = 'explicit' | 'auto'

/** Checks a refanged, trimmed value against one type and gives its canonical form or why it is not that type. */
export const checkAs = (type: IndicatorType, value: string, mode: CheckMode): Check => {
  switch (type) {
    case 'Address':
      return checkAddress(value)
    case 'CIDR':
      return checkCidr(value)
    case 'Host':
      return checkHost(value)
    case 'URL':
      return checkUrl(value)
    case 'EmailAddress':
      return checkEmail(value)
    case 'File':
      return checkFileHash(value)
    case 'ASN':
      return checkAsn(value, { allowBareNumber: mode === 'explicit' })
  }
}

/**
 * Most specific first: an ASN or CIDR would otherwise never be reached, and Host comes last because
 * "evil.com/path" (URL) and "a@b.com" (EmailAddress) contain hostnames.
 */
const DETECTION_ORDER: readonly IndicatorType[] = ['ASN', 'CIDR', 'Address', 'File', 'EmailAddress', 'URL', 'Host']

export interface Detected {
  readonly type: IndicatorType
  readonly value: string
}

/** The first type in DETECTION_ORDER the value is valid as, or undefined when it is none of them. */
export const detectIndicator = (value: string): Detected | undefined => {
  for (const type of DETECTION_ORDER) {
    const check = checkAs(type, value, 'auto')
    if (check.ok) return { type, value: check.value }
  }
  return undefined
}
