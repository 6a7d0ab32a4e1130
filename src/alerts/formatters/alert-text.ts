/** Plain words for alerts, shared by the formatters: what it is, how bad, why. Pure; no markup. */
import type { Alert, NotificationType } from '../api.js'

const RATING_NAMES = ['Unknown', 'Suspicious', 'Low', 'Moderate', 'High', 'Critical'] as const

/** "malicious", or "rating 4 (High)" for a rated indicator. */
export const severityOf = (alert: Alert): string => {
  if (alert.verdict !== undefined) return alert.verdict
  if (alert.rating !== undefined)
    return `rating ${alert.rating} (${RATING_NAMES[Math.max(0, Math.min(5, Math.round(alert.rating)))] ?? 'Unknown'})`
  return 'matched'
}

/** One line: severity, type and value, then the reason. */
export const alertLine = (alert: Alert): string =>
  `${severityOf(alert)}: ${alert.indicator.type} ${alert.indicator.value} (${alert.reason})`

/** Rules the alerts came from, in order of first appearance. */
const rulesOf = (alerts: readonly Alert[]): string[] => [...new Set(alerts.map((a) => a.rule))]

/** How each notification type is named in a title. */
const TYPE_TITLES: Readonly<Record<string, readonly [string, string]>> = {
  verdict: ['Verdict alert', 'verdict alerts'],
  watchlist: ['Watchlist match', 'watchlist matches'],
  feed: ['New in a feed', 'new feed indicators'],
}

export const titleOf = (alerts: readonly Alert[], type?: NotificationType): string => {
  const [one, many] = TYPE_TITLES[type ?? ''] ?? ['Alert', 'alerts']
  const first = alerts[0]
  if (alerts.length === 1 && first !== undefined)
    return `${one} (${first.rule}): ${severityOf(first)} ${first.indicator.type} ${first.indicator.value}`
  return `${alerts.length} ${many} (${rulesOf(alerts).join(', ')})`
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

/**
 * Cuts text to at most `max` UTF-16 units, saying so with an ellipsis, and never inside a character: an emoji, a
 * surrogate pair or a combining sequence stays whole or goes whole.
 */
export const cut = (text: string, max: number): string => {
  if (text.length <= max) return text
  let out = ''
  for (const { segment } of graphemes.segment(text)) {
    if (out.length + segment.length > max - 1) break
    out += segment
  }
  return `${out}…`
}

export const andMore = (n: number): string =>
  `…and ${n} more alert${n === 1 ? '' : 's'} (all of them are listed in GET /alerts)`
