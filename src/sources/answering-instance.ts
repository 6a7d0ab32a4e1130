/**
 * A started source that holds its data in memory (the embedded ones): it answers at once with `answer`, and
 * `lookup` is the same answer as a promise (a thrown SourceError becomes a rejection), as the interface promises.
 */
import type { Indicator } from '../indicators/types.js'
import type { Finding, LookupContext, SourceHealth, SourceInstance } from './types.js'

export const answeringInstance = (health: () => SourceHealth, answer: (indicator: Indicator, ctx: LookupContext) => Finding): SourceInstance => ({
  health,
  answer,
  lookup: async (indicator, ctx) => answer(indicator, ctx),
})
