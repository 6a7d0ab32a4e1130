/**
 * Every source this service knows, in the order they appear in replies and notes. Add a source: one file + one line
 * here.
 */
import { abuseipdbSource } from './abuseipdb.js'
import { asnSource } from './asn.js'
import { classifySource } from './classify.js'
import { greynoiseSource } from './greynoise.js'
import { internetdbSource } from './internetdb.js'
import { otxSource } from './otx.js'
import { threatfoxSource } from './threatfox.js'
import type { SourceDefinition } from './types.js'
import { urlhausSource } from './urlhaus.js'
import { virustotalSource } from './virustotal.js'
import { watchlistSource } from './watchlist.js'

export const SOURCE_DEFINITIONS: readonly SourceDefinition[] = [
  asnSource,
  watchlistSource,
  classifySource,
  virustotalSource,
  abuseipdbSource,
  greynoiseSource,
  internetdbSource,
  urlhausSource,
  threatfoxSource,
  otxSource,
]
