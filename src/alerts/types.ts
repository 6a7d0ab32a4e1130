/**
 * The alert service's words: an alert (what a service found), a destination (where it goes), an outbox entry (one
 * alert for one destination, on its way), and what a notifier's delivery came to. Pure types; no I/O.
 */
import type { IndicatorType } from '../indicators/types.js'

export const ALERT_SERVICES = ['watchlist', 'verdict', 'feed'] as const
export type AlertServiceId = (typeof ALERT_SERVICES)[number]

export const ALERT_VERDICTS = ['suspicious', 'malicious'] as const

/** What a service found: one indicator that met one rule. Everything a formatter may show. */
export interface Alert {
  readonly ruleId: string
  readonly service: AlertServiceId
  readonly indicator: { readonly type: IndicatorType | string; readonly value: string }
  /** verdict service: the /run verdict. */
  readonly verdict?: string
  /** feed and watchlist services: the Threat Rating 0-5. */
  readonly rating?: number
  readonly confidence?: number
  /** One line on why (the sources that spoke, the feed it came from, the TQL that matched). */
  readonly reason: string
  readonly tags?: readonly string[]
  /** ISO 8601: when the service saw it. */
  readonly observedAt: string
  /** A link to the indicator in ThreatConnect, when known. */
  readonly link?: string
}

type DestinationKind = 'slackChannel' | 'slackUser' | 'slackWebhook' | 'email' | 'webhook'

/**
 * One place a message goes: a Slack channel (id or name), a Slack user (by e-mail), the incoming webhook, an address, a
 * URL.
 */
export interface Destination {
  readonly kind: DestinationKind
  /** The channel, the e-mail address, the URL; '' for the Slack incoming webhook (its URL is a setting). */
  readonly target: string
}

export const OUTBOX_STATES = ['pending', 'sending', 'sent', 'failed', 'dead'] as const
export type OutboxState = (typeof OUTBOX_STATES)[number]

/** One alert for one destination, in the outbox. Its `key` is the dedup key: the outbox holds each key once, ever. */
export interface OutboxEntry {
  readonly key: string
  readonly destination: Destination
  /** The alert; or, instead, */
  readonly alert?: Alert
  /** a free-form e-mail (POST /alerts/email): sent as it is, never grouped. */
  readonly email?: FreeFormEmail
  readonly state: OutboxState
  /** ms since epoch. */
  readonly createdAt: number
  /** Not tried again before this (a retry's backoff, a Retry-After). */
  readonly notBefore: number
  readonly attempts: number
  /** What the third party last said (an error code, an SMTP reply), never a secret. */
  readonly lastError?: string
  /** When it was sent, and the third party's receipt (Slack's ts, the SMTP message id). */
  readonly sentAt?: number
  readonly receipt?: string
  /** While `sending`: who holds it, and until when (after that another worker may take it: at-least-once). */
  readonly leaseUntil?: number
  /** While `sending`: `<host>:<pid>` of the process that claimed it (a dead process's claim lapses at once). */
  readonly claimedBy?: string
  /** The keys of the other entries that went out in the same message. */
  readonly groupSize?: number
}

export interface FreeFormEmail {
  readonly to: readonly string[]
  readonly subject: string
  readonly text: string
  readonly html?: string
}

/**
 * What one delivery came to. `retry`: a transient failure (try again, not before `retryAfterMs` when the third party
 * said); `dead`: a permanent one (not retried: channel_not_found, an SMTP 5xx).
 */
export type DeliveryOutcome =
  | { readonly outcome: 'sent'; readonly receipt: string; readonly detail: string }
  | {
      readonly outcome: 'retry'
      readonly reason: string
      readonly retryAfterMs?: number
      readonly scope?: 'destination' | 'workspace'
    }
  | { readonly outcome: 'dead'; readonly reason: string }
