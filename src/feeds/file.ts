/**
 * The user's own list: a CSV or JSON file with the watchlist's columns (indicator, type, verdict, confidence, tags,
 * comment), at FEED_FILE_PATH. The embedded default is a small dated sample in data/. Its Source attribute names the
 * file, not where it lives (a server's paths stay on the server).
 */
import { basename } from 'node:path'
import { readWatchlistRows, type WatchlistFormat } from '../sources/watchlist-file.js'
import type { Verdict } from '../sources/types.js'
import { cleanTags, readAll } from './feed-kit.js'
import type { FeedDefinition } from './types.js'

/** The verdict the list gives -> Threat Rating; the list's confidence (80 when it gives none) is kept. */
const FILE_RATING: Readonly<Record<Verdict, number>> = { malicious: 4, suspicious: 2, unknown: 0, benign: 0 }
const FILE_DEFAULT_CONFIDENCE = 80
const LISTED_INVALID = 20

/** The file feed for a path: its format from the extension (csv unless .json). */
export const fileFeed = (path: string): FeedDefinition => {
  const format: WatchlistFormat = path.toLowerCase().endsWith('.json') ? 'json' : 'csv'
  const source = `Own list (${basename(path)})`
  return {
    id: 'file',
    title: 'Your own list',
    description: `Indicators from ${basename(path)} (the watchlist's columns).`,
    defaultUrl: undefined,
    minIntervalMs: 0,
    licence: 'Yours.',
    async parse(text, sink) {
      const read = readWatchlistRows(await readAll(text), format)
      if (read.fatal !== undefined) return { count: 0, invalid: 0, invalidRows: [], broken: read.fatal }
      const invalidRows = read.problems.map((p) => ({ line: p.line, reason: p.reason }))
      let count = 0
      for (const e of read.entries) {
        if (e.wildcard) {
          invalidRows.push({ line: lineOf(e.where), reason: `${e.entry}: a wildcard is not a ThreatConnect indicator` })
          continue
        }
        count += 1
        sink({
          type: e.indicator.type,
          summary: e.indicator.value,
          rating: FILE_RATING[e.verdict],
          confidence: e.confidence ?? FILE_DEFAULT_CONFIDENCE,
          tags: cleanTags([...e.tags, e.verdict]),
          attributes: [
            { type: 'Source', value: source },
            ...(e.comment ? [{ type: 'Description', value: e.comment }] : []),
          ],
        })
      }
      return {
        count,
        invalid: invalidRows.length,
        invalidRows: invalidRows.slice(0, LISTED_INVALID),
        broken: undefined,
      }
    },
  }
}

const lineOf = (where: string): number => Number(/\d+/.exec(where)?.[0] ?? 0)
