/**
 * exitCode and exitMessage, as a native Playbook app reports them. A run has failed when nothing answered and at
 * least one source failed (a failure must never pass as an "unknown" verdict), or when write-back failed; it has
 * "no results" when no source had anything on any indicator (every verdict unknown). Whether either fails the run
 * (exitCode 1) is the caller's choice, as partner apps offer it: fail_on_error (default true) and
 * fail_on_no_results (default false). The platform keeps 255 characters of the message.
 */
import type { IndicatorResult } from './types.js'

export const EXIT_MESSAGE_MAX = 255

export type RunOutcome = 'ok' | 'failed' | 'no_results'

export interface ExitStatus {
  readonly exitCode: 0 | 1
  readonly exitMessage: string
  /** What made exitCode 1 ('ok' when it is 0): the route turns it into the HTTP status. */
  readonly outcome: RunOutcome
}

export interface FailurePolicy {
  readonly failOnError: boolean
  readonly failOnNoResults: boolean
}

const DEFAULT_POLICY: FailurePolicy = { failOnError: true, failOnNoResults: false }

const short = (text: string, max = 80): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

const fit = (text: string): string =>
  text.length <= EXIT_MESSAGE_MAX ? text : `${text.slice(0, EXIT_MESSAGE_MAX - 1)}…`

export const exitStatus = (
  results: readonly IndicatorResult[],
  extraFailure?: string,
  policy: FailurePolicy = DEFAULT_POLICY,
): ExitStatus => {
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
  const error = nothingAnswered || extraFailure !== undefined
  const noResults = !error && results.every((r) => r.assessment.verdict === 'unknown')
  // Failures first: the message is cut at 255 characters and they matter most.
  const parts = [
    ...(nothingAnswered ? ['no source answered'] : []),
    ...(extraFailure ? [extraFailure] : []),
    ...(noResults && policy.failOnNoResults ? ['no results (fail_on_no_results)'] : []),
    head,
    sourcesPart,
  ]
  const outcome: RunOutcome =
    error && policy.failOnError ? 'failed' : noResults && policy.failOnNoResults ? 'no_results' : 'ok'
  return { exitCode: outcome === 'ok' ? 0 : 1, exitMessage: fit(parts.join('; ')), outcome }
}
