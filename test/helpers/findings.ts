/** Builders for findings and outcomes in tests. */
import type { SourceOutcome } from '../../src/enrich/types.js'
import type { Finding, Verdict } from '../../src/sources/types.js'

export const finding = (verdict: Verdict, over: Partial<Finding> = {}): Finding => ({
  verdict,
  score: null,
  confidence: null,
  tags: [],
  summary: `${verdict} finding`,
  facts: {},
  raw: null,
  ...over,
})

export const ok = (
  source: string,
  f: Finding,
  over: Partial<Extract<SourceOutcome, { status: 'ok' }>> = {},
): SourceOutcome => ({
  source,
  status: 'ok',
  finding: f,
  elapsedMs: 1,
  cached: false,
  ageMs: 0,
  ...over,
})

export const failed = (source: string, reason = 'timeout - no answer within 100 ms'): SourceOutcome => ({
  source,
  status: 'failed',
  kind: 'timeout',
  reason,
  elapsedMs: 100,
})

export const skipped = (
  source: string,
  reason = 'does not support Host indicators (supports Address, CIDR)',
): SourceOutcome => ({
  source,
  status: 'skipped',
  kind: 'unsupported_type',
  reason,
  elapsedMs: 0,
})
