/**
 * The `verdict` service: hears every /run result and raises an alert for each indicator whose verdict meets a rule's
 * `minVerdict` (suspicious: suspicious or malicious). Pure: one result in, alerts out.
 */
import { Type, type Static } from 'typebox'
import { defineService, type FoundAlert } from '../api.js'

/** What the service needs of one /run result (the app hands it; the alert library imports nothing of enrichment). */
export interface VerdictEvent {
  readonly indicator: { readonly type: string; readonly value: string }
  readonly verdict: string
  readonly score: number
  readonly rating: number
  readonly confidence: number
  readonly tags: readonly string[]
  /** The sources whose findings made the verdict, e.g. "virustotal: malicious (14 engines)". */
  readonly because: readonly string[]
  /** The indicator's page in ThreatConnect, when the run wrote back. */
  readonly link?: string
}

const VerdictRule = Type.Object({
  minVerdict: Type.Union([Type.Literal('suspicious'), Type.Literal('malicious')], {
    description: 'suspicious: suspicious and malicious verdicts; malicious: malicious only.',
  }),
})

const SEVERITY: Readonly<Record<string, number>> = { suspicious: 1, malicious: 2 }

export const verdictService = defineService<Static<typeof VerdictRule>, undefined, VerdictEvent>({
  rule: VerdictRule,
  hears: 'verdict',
  select(rule, e): FoundAlert[] {
    if ((SEVERITY[e.verdict] ?? 0) < (SEVERITY[rule.minVerdict] ?? Infinity)) return []
    return [
      {
        indicator: e.indicator,
        verdict: e.verdict,
        rating: e.rating,
        confidence: e.confidence,
        reason: e.because.length > 0 ? e.because.slice(0, 5).join('; ') : `verdict ${e.verdict}, score ${e.score}`,
        tags: e.tags,
        details: { score: e.score },
        ...(e.link !== undefined ? { link: e.link } : {}),
      },
    ]
  },
})
