import type { Indicator, IndicatorType, NormaliseResult, RequestedType } from './types.js'
import { quote } from './check.js'
import { checkAs, detectIndicator } from './detect.js'
import { parseFileSummary } from './file-hash.js'
import { refang } from './refang.js'
import { trimIndicator } from './trim.js'

const UNRECOGNISED_HINT = '(expected an Address, Host, URL, File hash, EmailAddress, ASN or CIDR)'

const WITH_ARTICLE: Readonly<Record<IndicatorType, string>> = {
  Address: 'an Address',
  Host: 'a Host',
  URL: 'a URL',
  File: 'a File hash',
  EmailAddress: 'an EmailAddress',
  ASN: 'an ASN',
  CIDR: 'a CIDR',
}

/** A File given as a summary keeps every hash of it; anything else is as it was. */
const withHashes = (indicator: Indicator, text: string): Indicator => {
  if (indicator.type !== 'File') return indicator
  const summary = parseFileSummary(text)
  return summary === undefined || 'why' in summary ? indicator : { ...indicator, hashes: summary.hashes }
}

/**
 * Trim, refang and canonicalise one indicator. With "Auto" the type is detected; with a named type the value
 * must be of that type. Never throws: every problem becomes `{ ok: false, reason }` for a 400 answer.
 */
export const normaliseIndicator = (raw: string, requested: RequestedType): NormaliseResult => {
  const trimmed = trimIndicator(raw)
  if (trimmed === '') return { ok: false, reason: 'indicator is empty' }
  const value = refang(trimmed)

  if (requested === 'Auto') {
    const detected = detectIndicator(value)
    if (detected === undefined) {
      return { ok: false, reason: `${quote(trimmed)} is not a recognised indicator ${UNRECOGNISED_HINT}` }
    }
    return { ok: true, indicator: withHashes({ input: raw, value: detected.value, type: detected.type }, value) }
  }

  const check = checkAs(requested, value, 'explicit')
  if (check.ok) return { ok: true, indicator: withHashes({ input: raw, value: check.value, type: requested }, value) }
  // Saying what it does look like turns "not a valid Host" into an actionable message.
  const lookalike = detectIndicator(value)
  const hint =
    lookalike !== undefined && lookalike.type !== requested ? ` (it looks like ${WITH_ARTICLE[lookalike.type]})` : ''
  return { ok: false, reason: `${quote(trimmed)} is not a valid ${requested}: ${check.why}${hint}` }
}
