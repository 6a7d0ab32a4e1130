/**
 * Alerts -> the generic webhook's JSON body: every alert as data, raw values (a receiver renders and defangs), each
 * with its stable `id`; capped, with a count of the rest. The message's own id travels in the headers.
 */
import { defineFormatter, type Alert, type FormatInput } from '../api.js'

export const WEBHOOK_LIMITS = { listed: 500 } as const

export interface WebhookBody {
  readonly version: 2
  readonly product: string
  readonly type: string
  readonly count: number
  /** How many alerts past the cap are not in `alerts` (GET /alerts lists them). */
  readonly more: number
  readonly alerts: readonly Alert[]
}

export const formatWebhook = (input: FormatInput): WebhookBody => ({
  version: 2,
  product: input.product,
  type: input.type,
  count: input.alerts.length,
  more: Math.max(0, input.alerts.length - WEBHOOK_LIMITS.listed),
  alerts: input.alerts.slice(0, WEBHOOK_LIMITS.listed),
})

export const webhookFormatter = defineFormatter<WebhookBody>({ format: formatWebhook })
