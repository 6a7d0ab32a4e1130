/** Every source this service knows, in the order they appear in replies and notes. Add a source: one file + one line here. */
import { asnSource } from './asn.js'
import { classifySource } from './classify.js'
import { watchlistSource } from './watchlist.js'
import type { SourceDefinition } from './types.js'

export const SOURCE_DEFINITIONS: readonly SourceDefinition[] = [asnSource, watchlistSource, classifySource]
