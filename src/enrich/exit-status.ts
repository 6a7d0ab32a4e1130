/**
 * exitCode and exitMessage, as a native Playbook app reports them. exitCode 1 when nothing answered and at least
 * one source failed (a failure must never pass as an "unknown" verdict). The platform keeps 255 characters.
 */
import type { IndicatorResult } from './types.js'

export const EXIT_MESSAGE_MAX = 255

export interface ExitStatus {
  readonly exitCode: 0 | 1
  readonly exitMessage: string
}

const short = (text: string, max = 80): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

const fit = (text: string): string => (text.length <= EXIT_MESSAGE_MAX ? text : `${text.slice(0, EXIT_MESSAGE_MAX - 1)}…`)

export const exitStatus = (results: readonly IndicatorResult[], extraFailure?: string): ExitStatus => {
  const outcomes = results.flatMap((r) => r.outcomes)
  const ok = outcomes.filter((o) => o.status === 'ok').length
  const failed = outcomes.filter((o) => o.status === 'failed')
  const skipped = outcomes.filter((o) => o.status === 'skipped').length
  const failedIds = [...new Set(failed.map((o) => o.source))]
  const sourcesPart = `sources ${ok} ok, ${failed.length} failed, ${skipped} skipped${failedIds.length ? ` (failed: ${failedIds.join(', ')})` : ''}`

  let head: string
  if (results.length === 1 && results[0]) {
    const r = results[0]
    head = `${short(r.indicator.value)} (${r.indicator.type}): ${r.assessment.verdict}, score ${r.assessment.score}`
  } else {
    const count = (v: string): number => results.filter((r) => r.assessment.verdict === v).length
    head = `${results.length} indicators: ${count('malicious')} malicious, ${count('suspicious')} suspicious, ${count('benign')} benign, ${count('unknown')} unknown`
  }
  const nothingAnswered = ok === 0 && failed.length > 0
  // Failures first: the message is cut at 255 characters and they matter most.
  const parts = [...(nothingAnswered ? ['no source answered'] : []), ...(extraFailure ? [extraFailure] : []), head, sourcesPart]
  return { exitCode: nothingAnswered || extraFailure !== undefined ? 1 : 0, exitMessage: fit(parts.join('; ')) }
}
