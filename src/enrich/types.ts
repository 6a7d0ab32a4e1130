import type { SourceFailureKind } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import type { Finding, Verdict } from '../sources/types.js'

/** What became of one source for one indicator. Every selected source gets exactly one outcome. */
export type SourceOutcome =
  | {
      readonly source: string
      readonly status: 'ok'
      readonly finding: Finding
      readonly elapsedMs: number
      readonly cached: boolean
      /** Age of the cached finding, ms (0 when fresh). */
      readonly ageMs: number
    }
  | {
      readonly source: string
      readonly status: 'failed' | 'skipped'
      readonly kind: SourceFailureKind | 'unsupported_type'
      readonly reason: string
      readonly elapsedMs: number
    }

export interface Assessment {
  readonly verdict: Verdict
  readonly score: number
  readonly threatRating: number
  readonly confidence: number
  readonly tags: readonly string[]
}

export interface IndicatorResult {
  readonly indicator: Indicator
  readonly outcomes: readonly SourceOutcome[]
  readonly assessment: Assessment
  readonly note: string
  /** Short digest of the findings: the same findings give the same digest (write-back idempotency). */
  readonly digest: string
}
