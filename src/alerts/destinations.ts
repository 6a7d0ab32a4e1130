/**
 * How a destination is named: `label` is what logs, replies and GET /alerts show (a webhook's URL may be the
 * credential, so only its host and a fingerprint of the rest); `destinationId` groups entries into one message.
 */
import { createHash } from 'node:crypto'
import { keyPrint } from '../state/key-print.js'
import type { Alert, Destination } from './types.js'

export const destinationLabel = (d: Destination): string => {
  switch (d.kind) {
    case 'slackChannel':
      return `slack channel ${d.target}`
    case 'slackUser':
      return `slack user ${d.target}`
    case 'slackWebhook':
      return 'slack incoming webhook'
    case 'email':
      return `email ${d.target}`
    case 'webhook': {
      let host = 'invalid-url'
      try {
        host = new URL(d.target).host
      } catch {
        // label it as invalid; the notifier refuses it
      }
      return `webhook ${host} #${keyPrint(d.target)}`
    }
  }
}

/** One string per destination (messages are grouped by it); a webhook's URL is kept out of it. */
export const destinationId = (d: Destination): string =>
  d.kind === 'webhook' ? `webhook:${keyPrint(d.target)}` : `${d.kind}:${d.target}`

/** What makes an alert news again: a verdict alert's verdict (not its score's rating), else the rating. */
const bucketOf = (alert: Alert): [string, string | number | null] =>
  alert.verdict !== undefined ? ['verdict', alert.verdict] : ['rating', alert.rating ?? null]

/**
 * The dedup key: one per (rule, indicator, verdict or rating, destination). A later alert with the same key is the
 * same news and is not sent again; a worse verdict or another rating is news and is.
 */
export const dedupKey = (alert: Alert, d: Destination): string =>
  createHash('sha256')
    .update(
      JSON.stringify([
        alert.ruleId,
        alert.indicator.type,
        alert.indicator.value.toLowerCase(),
        ...bucketOf(alert),
        d.kind,
        d.target,
      ]),
    )
    .digest('hex')
    .slice(0, 32)
