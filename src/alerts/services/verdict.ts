/**
 * The `verdict` service: hears every /run result and raises an alert for each indicator whose verdict meets a rule's
 * `minVerdict` (suspicious: suspicious or malicious). Pure: results in, alerts out.
 */
import type { VerdictRule } from '../rules.js'
import type { Alert } from '../types.js'

/** What the service needs of one /run result (the app hands it; the alert service imports nothing of enrichment). */
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

const SEVERITY: Readonly<Record<string, number>> = { suspicious: 1, malicious: 2 }

export const verdictAlerts = (
  rules: readonly VerdictRule[],
  events: readonly VerdictEvent[],
  observedAt: string,
): Alert[] =>
  rules.flatMap((rule) =>
    events
      .filter((e) => (SEVERITY[e.verdict] ?? 0) >= (SEVERITY[rule.minVerdict] ?? Infinity))
      .map((e) => ({
        ruleId: rule.id,
        service: 'verdict' as const,
        indicator: e.indicator,
        verdict: e.verdict,
        rating: e.rating,
        confidence: e.confidence,
        reason: e.because.length > 0 ? e.because.slice(0, 5).join('; ') : `verdict ${e.verdict}, score ${e.score}`,
        tags: e.tags,
        observedAt,
        ...(e.link !== undefined ? { link: e.link } : {}),
      })),
  )
