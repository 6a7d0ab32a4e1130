/**
 * An upstream's HTTP status -> the kind of failure it is: the one place this is decided, for vendors and for
 * ThreatConnect alike (a status a source treats as an answer, such as a "not seen" 404, never reaches here).
 */
import type { SourceFailureKind } from '../errors.js'

export const failureKindOfStatus = (status: number): SourceFailureKind => {
  if (status === 401 || status === 403) return 'auth'
  if (status === 429) return 'rate_limited'
  return 'http_error'
}
