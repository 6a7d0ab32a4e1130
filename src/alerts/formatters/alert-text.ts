/** Plain words for an alert, shared by the formatters: what it is, how bad, why. Pure; no markup. */
import type { Alert } from '../types.js'

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
const rulesOf = (alerts: readonly Alert[]): string[] => [...new Set(alerts.map((a) => a.ruleId))]

export const titleOf = (alerts: readonly Alert[]): string => {
  const rules = rulesOf(alerts)
  const first = alerts[0]
  if (alerts.length === 1 && first !== undefined)
    return `Alert (${first.ruleId}): ${severityOf(first)} ${first.indicator.type} ${first.indicator.value}`
  return `${alerts.length} alerts (${rules.join(', ')})`
}

/** Cuts text to `max` characters, saying so with an ellipsis. */
export const cut = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`

export const andMore = (n: number): string =>
  `…and ${n} more alert${n === 1 ? '' : 's'} (all of them are listed in GET /alerts)`
