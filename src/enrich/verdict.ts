/**
 * Findings -> one verdict, score, threat rating and confidence. Pure. The mapping is documented in
 * docs/verdict.md; change both together (test/enrich/verdict.test.ts pins it).
 */
import type { Finding, Verdict } from '../sources/types.js'
import type { Assessment, SourceOutcome } from './types.js'

const SEVERITY: Record<Verdict, number> = { unknown: 0, benign: 1, suspicious: 2, malicious: 3 }

/** Score assumed for a finding whose source gives a verdict but no score. */
export const DEFAULT_SCORE: Record<Verdict, number> = { malicious: 75, suspicious: 40, benign: 0, unknown: 0 }
/** Confidence assumed for a finding whose source gives none. */
export const DEFAULT_CONFIDENCE = 50
export const AGREEMENT_BONUS = 10
export const DISAGREEMENT_PENALTY = 20
export const MIN_CONFIDENCE = 10

/** ThreatConnect threat rating (0 unknown, 1 suspicious, 2 low, 3 moderate, 4 high, 5 critical). */
export const threatRatingOf = (verdict: Verdict, score: number): number => {
  if (verdict === 'malicious') return score >= 90 ? 5 : score >= 75 ? 4 : 3
  if (verdict === 'suspicious') return score >= 50 ? 2 : 1
  return 0
}

const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(n)))

export const uniqueTags = (findings: readonly Finding[]): string[] => {
  const seen = new Map<string, string>()
  for (const f of findings) for (const tag of f.tags) if (!seen.has(tag.toLowerCase())) seen.set(tag.toLowerCase(), tag)
  return [...seen.values()]
}

export const assess = (outcomes: readonly SourceOutcome[]): Assessment => {
  const findings = outcomes.flatMap((o) => (o.status === 'ok' ? [o.finding] : []))
  const tags = uniqueTags(findings)
  const opinions = findings.filter((f) => f.verdict !== 'unknown')
  if (opinions.length === 0) return { verdict: 'unknown', score: 0, threatRating: 0, confidence: 0, tags }

  // The worst opinion wins: a SOC would rather look at a false positive than miss a true one.
  const verdict = opinions.reduce<Verdict>((worst, f) => (SEVERITY[f.verdict] > SEVERITY[worst] ? f.verdict : worst), 'benign')
  const agreeing = opinions.filter((f) => f.verdict === verdict)
  const score = clamp(Math.max(...agreeing.map((f) => f.score ?? DEFAULT_SCORE[verdict])), 0, 100)

  // Opposite side: benign against malicious/suspicious and the reverse; suspicious vs malicious is not a conflict.
  const opposed = opinions.filter((f) => (verdict === 'benign') !== (f.verdict === 'benign'))
  const base = Math.max(...agreeing.map((f) => f.confidence ?? DEFAULT_CONFIDENCE))
  const confidence = clamp(
    base + AGREEMENT_BONUS * (agreeing.length - 1) - DISAGREEMENT_PENALTY * opposed.length,
    MIN_CONFIDENCE,
    100,
  )
  return { verdict, score, threatRating: threatRatingOf(verdict, score), confidence, tags }
}

/** Verdict and score -> ThreatConnect threat rating ("skulls"), a missing score taking the verdict's default. 0 means "do not change the rating". */
export const ratingFor = (verdict: Verdict, score: number | null): number => threatRatingOf(verdict, score ?? DEFAULT_SCORE[verdict])
