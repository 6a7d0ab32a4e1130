/**
 * A started source that holds its data in memory (the embedded ones): it answers at once with `answer`, and
 * `lookup` is the same answer as a promise (a thrown SourceError becomes a rejection), as the interface promises.
 * An unexpected error becomes SourceError('internal') naming what the source could not do with which indicator
 * (`cannot <doing> Address '8.8.8.8': ...`), so the reply says more than "unexpected error".
 */
import { SourceError } from '../errors.js'
import type { Indicator } from '../indicators/types.js'
import type { Finding, LookupContext, SourceHealth, SourceInstance } from './types.js'

export const answeringInstance = (
  health: () => SourceHealth,
  answer: (indicator: Indicator, ctx: LookupContext) => Finding,
  doing: string,
): SourceInstance => {
  const explained = (indicator: Indicator, ctx: LookupContext): Finding => {
    try {
      return answer(indicator, ctx)
    } catch (err) {
      if (err instanceof SourceError) throw err
      throw new SourceError(
        'internal',
        `cannot ${doing} ${indicator.type} '${indicator.value}': ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      )
    }
  }
  return { health, answer: explained, lookup: async (indicator, ctx) => explained(indicator, ctx) }
}
