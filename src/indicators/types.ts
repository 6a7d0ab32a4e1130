/** ThreatConnect indicator type names this app enriches (the platform's own spelling). */
export const INDICATOR_TYPES = ['Address', 'Host', 'URL', 'File', 'EmailAddress', 'ASN', 'CIDR'] as const
export type IndicatorType = (typeof INDICATOR_TYPES)[number]

/** What the caller may ask for: a type, or "Auto" to detect it. */
export type RequestedType = IndicatorType | 'Auto'

import type { FileHashes } from './file-hash.js'

/** An indicator after trimming, refanging and canonicalising: the form every source sees. */
export interface Indicator {
  /** Exactly what the caller sent, kept so nothing is lost. */
  readonly input: string
  /** Canonical value (see docs/user-guide.md "Normalisation"). */
  readonly value: string
  readonly type: IndicatorType
  /**
   * A File sent as ThreatConnect's summary `md5 : sha1 : sha256`: every hash it holds, by kind (`value` is the
   * strongest). Absent for one hash.
   */
  readonly hashes?: FileHashes
}

export type NormaliseResult =
  { readonly ok: true; readonly indicator: Indicator } | { readonly ok: false; readonly reason: string }
