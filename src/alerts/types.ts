/**
 * The worker's own words: a destination (one notifier kind and its settings), an outbox entry (one alert, or one
 * free-form e-mail, for one destination, on its way), and what a delivery came to. Pure types; no I/O. The public
 * shapes (alerts, messages, plugins) are in ./api.ts.
 */
import type { Alert, FreeFormEmail } from './api.js'

/** One place a message goes: a notifier kind and one destination's settings, as a rule wrote them. */
export interface Destination {
  /** The notifier kind (slackChannels, email, webhooks, a plugin's teams, ...). */
  readonly kind: string
  /** What tells it apart from the kind's other destinations (the channel, the address, the URL). */
  readonly target: string
  /** The settings the notifier is created with (kept, so an entry is deliverable after its rule changed). */
  readonly settings: unknown
}

export const OUTBOX_STATES = ['pending', 'sending', 'sent', 'failed', 'dead', 'silenced'] as const
export type OutboxState = (typeof OUTBOX_STATES)[number]

/** One alert for one destination, in the outbox. Its `key` is the dedup key: the outbox holds each key once. */
export interface OutboxEntry {
  readonly key: string
  readonly destination: Destination
  /** The alert; or, instead, */
  readonly alert?: Alert
  /** a free-form e-mail (POST /alerts/email): sent as it is, never grouped; its text is dropped once it is final. */
  readonly email?: FreeFormEmail
  /** The formatter kind a rule picked for this destination's notifier, when not the notifier's own. */
  readonly formatter?: string
  readonly state: OutboxState
  /** ms since epoch. */
  readonly createdAt: number
  /** Not tried again before this (a retry's backoff, a Retry-After); for `silenced`, when the silence ends. */
  readonly notBefore: number
  /** Claims so far: a crash mid-send counts, so GET /alerts shows a message that may have gone out twice. */
  readonly attempts: number
  /** What the third party last said (an error code, an SMTP reply), never a secret. */
  readonly lastError?: string
  /** When it was sent, and the third party's receipt (Slack's ts, the SMTP message id). */
  readonly sentAt?: number
  readonly receipt?: string
  /** When it became final (sent, dead, silenced): what ALERTS_RETENTION counts from. */
  readonly settledAt?: number
  /** While `sending`: until when the claim holds (after that another worker may take it: at-least-once). */
  readonly leaseUntil?: number
  /** While `sending`: `<host>:<pid>` of the process that claimed it (a dead process's claim lapses at once). */
  readonly claimedBy?: string
  /**
   * The message it went out in, kept from its first claim: a retry re-sends the same alerts under the same id, never
   * merged with alerts raised since.
   */
  readonly messageId?: string
  /** How many alerts went out in that message. */
  readonly groupSize?: number
  /** How often a rule's repeatInterval re-armed this key (0: the first notification). */
  readonly repeats?: number
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
      readonly scope?: 'destination' | 'group'
    }
  | { readonly outcome: 'dead'; readonly reason: string }
