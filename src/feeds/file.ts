/**
 * The user's own list: a CSV or JSON file with the watchlist's columns (indicator, type, verdict, confidence, tags,
 * comment), at FEED_FILE_PATH. The embedded default is a small dated sample in data/.
 */
import { readWatchlistRows, type WatchlistFormat } from '../sources/watchlist-file.js'
import type { Verdict } from '../sources/types.js'
import type { FeedDefinition, FeedItem, ParsedFeed } from './types.js'

/** The verdict the list gives -> Threat Rating; the list's confidence (80 when it gives none) is kept. */
const FILE_RATING: Readonly<Record<Verdict, number>> = { malicious: 4, suspicious: 2, unknown: 0, benign: 0 }
const FILE_DEFAULT_CONFIDENCE = 80

/** The file feed for a path: its format from the extension (csv unless .json). */
export const fileFeed = (path: string): FeedDefinition => {
  const format: WatchlistFormat = path.toLowerCase().endsWith('.json') ? 'json' : 'csv'
  return {
    id: 'file',
    title: 'Your own list',
    description: `Indicators from ${path} (the watchlist's columns).`,
    defaultUrl: undefined,
    minIntervalMs: 0,
    licence: 'Yours.',
    parse(text, sink): ParsedFeed {
      const read = readWatchlistRows(text, format)
      if (read.fatal !== undefined) return { items: [], count: 0, invalid: [], incomplete: read.fatal }
      const items: FeedItem[] = []
      let count = 0
      const invalid = read.problems.map((p) => ({ line: p.line, reason: p.reason }))
      for (const e of read.entries) {
        if (e.wildcard) {
          invalid.push({ line: lineOf(e.where), reason: `${e.entry}: a wildcard is not a ThreatConnect indicator` })
          continue
        }
        const item: FeedItem = {
          type: e.indicator.type,
          summary: e.indicator.value,
          rating: FILE_RATING[e.verdict],
          confidence: e.confidence ?? FILE_DEFAULT_CONFIDENCE,
          tags: [...new Set([...e.tags, e.verdict])],
          attributes: [
            { type: 'Source', value: `Own list (${path})` },
            ...(e.comment ? [{ type: 'Description', value: e.comment }] : []),
          ],
        }
        count += 1
        if (sink) sink(item)
        else items.push(item)
      }
      return { items, count, invalid, incomplete: undefined }
    },
  }
}

const lineOf = (where: string): number => Number(/\d+/.exec(where)?.[0] ?? 0)
