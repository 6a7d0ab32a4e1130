/**
 * Findings -> one verdict, score, threat rating and confidence. Pure. The mapping is documented in
 * docs/verdict.md; change both together (test/enrich/verdict.test.ts pins it).
 */
import type { Finding, Verdict } from '../sources/types.js'
import type { Assessment, SourceOutcome } from './types.js'

const SEVERITY: Record<Verdict, number> = { unknown: 0, benign: 1, suspicious: 2, malicious: 3 }

/** Score assumed for a finding whose source gives a verdict but no score. */
const DEFAULT_SCORE: Record<Verdict, number> = { malicious: 75, suspicious: 40, benign: 0, unknown: 0 }
/** Confidence assumed for a finding whose source gives none. */
const DEFAULT_CONFIDENCE = 50
const AGREEMENT_BONUS = 10
const DISAGREEMENT_PENALTY = 20
const MIN_CONFIDENCE = 10

/** ThreatConnect threat rating (0 unknown, 1 suspicious, 2 low, 3 moderate, 4 high, 5 critical). */
export const threatRatingOf = (verdict: Verdict, score: number): number => {
  if (verdict === 'malicious') return score >= 90 ? 5 : score >= 75 ? 4 : 3
  if (verdict === 'suspicious') return score >= 50 ? 2 : 1
  return 0
}

const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(n)))

const uniqueTags = (findings: readonly Finding[]): string[] => {
  const seen = new Map<string, string>()
  for (const f of findings) for (const tag of f.tags) if (!seen.has(tag.toLowerCase())) seen.set(tag.toLowerCase(), tag)
  return [...seen.values()]
}

export const assess = (outcomes: readonly SourceOutcome[]): Assessment => {
  // Plain loops: this runs once per indicator per run, and the array helpers' copies showed in profiles.
  const findings: Finding[] = []
  for (const o of outcomes) if (o.status === 'ok') findings.push(o.finding)
  const tags = uniqueTags(findings)
  // The worst opinion wins: a SOC would rather look at a false positive than miss a true one.
  let verdict: Verdict | undefined
  for (const f of findings)
    if (f.verdict !== 'unknown' && (verdict === undefined || SEVERITY[f.verdict] > SEVERITY[verdict]))
      verdict = f.verdict
  if (verdict === undefined) return { verdict: 'unknown', score: 0, threatRating: 0, confidence: 0, tags }

  let agreeing = 0
  let opposed = 0
  let score = -Infinity
  let base = -Infinity
  for (const f of findings) {
    if (f.verdict === 'unknown') continue
    if (f.verdict === verdict) {
      agreeing += 1
      score = Math.max(score, f.score ?? DEFAULT_SCORE[verdict])
      base = Math.max(base, f.confidence ?? DEFAULT_CONFIDENCE)
    }
    // Opposite side: benign against malicious/suspicious and the reverse; suspicious vs malicious is not a conflict.
    if ((verdict === 'benign') !== (f.verdict === 'benign')) opposed += 1
  }
  score = clamp(score, 0, 100)
  const confidence = clamp(
    base + AGREEMENT_BONUS * (agreeing - 1) - DISAGREEMENT_PENALTY * opposed,
    MIN_CONFIDENCE,
    100,
  )
  return { verdict, score, threatRating: threatRatingOf(verdict, score), confidence, tags }
}

/**
 * Verdict and score -> ThreatConnect threat rating ("skulls"), a missing score taking the verdict's default. 0 means
 * "do not change the rating".
 */
export const ratingFor = (verdict: Verdict, score: number | null): number =>
  threatRatingOf(verdict, score ?? DEFAULT_SCORE[verdict])
