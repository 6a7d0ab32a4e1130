/**
 * Alerts -> the generic webhook's JSON body: every alert as data (a receiver renders it), capped with a count of the
 * rest.
 */
import type { Alert } from '../types.js'

export const WEBHOOK_LIMITS = { listed: 500 } as const

export interface WebhookBody {
  readonly version: 1
  readonly product: string
  readonly count: number
  /** How many alerts past the cap are not in `alerts` (GET /alerts lists them). */
  readonly more: number
  readonly alerts: readonly Alert[]
}

export const formatWebhook = (alerts: readonly Alert[], product: string): WebhookBody => ({
  version: 1,
  product,
  count: alerts.length,
  more: Math.max(0, alerts.length - WEBHOOK_LIMITS.listed),
  alerts: alerts.slice(0, WEBHOOK_LIMITS.listed),
})
