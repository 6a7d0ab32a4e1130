/**
 * How destinations and alerts are named and keyed: `destinationId` groups and paces messages (the target only as a
 * fingerprint: a plugin's target may be a URL holding its credential, and pacing keys may live in Redis); the dedup
 * key says which alerts are the same news; an alert's id is what a receiver dedups on.
 */
import { createHash } from 'node:crypto'
import { keyPrint } from '../state/key-print.js'
import type { Alert } from './api.js'
import type { Destination } from './types.js'

export const destinationId = (d: Pick<Destination, 'kind' | 'target'>): string => `${d.kind}:${keyPrint(d.target)}`

const digest = (parts: readonly unknown[]): string =>
  createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32)

/** What makes an alert news again: a verdict alert's verdict (not its score's rating), else the rating. */
const bucketOf = (alert: Pick<Alert, 'verdict' | 'rating'>): [string, string | number | null] =>
  alert.verdict !== undefined ? ['verdict', alert.verdict] : ['rating', alert.rating ?? null]

type AlertNews = Pick<Alert, 'rule' | 'indicator' | 'verdict' | 'rating'>

/** The built-in notifier kinds as the keys of an earlier version named them: an upgrade does not re-send. */
const KEY_KIND: Readonly<Record<string, string>> = {
  slackChannels: 'slackChannel',
  slackUsers: 'slackUser',
  slackWebhook: 'slackWebhook',
  email: 'email',
  webhooks: 'webhook',
}

/**
 * The dedup key: one per (rule, indicator, verdict or rating, destination). A later alert with the same key is the
 * same news and is not sent again (unless its rule's repeatInterval re-arms it); a worse verdict or another rating is
 * news and is.
 */
export const dedupKey = (alert: AlertNews, d: Pick<Destination, 'kind' | 'target'>): string =>
  digest([
    alert.rule,
    alert.indicator.type,
    alert.indicator.value.toLowerCase(),
    ...bucketOf(alert),
    KEY_KIND[d.kind] ?? d.kind,
    d.target,
  ])

/** An alert's id: the same news has the same id at every destination; a repeat gets its own (`<id>-r<n>`). */
export const alertIdOf = (alert: AlertNews): string =>
  digest([alert.rule, alert.indicator.type, alert.indicator.value.toLowerCase(), ...bucketOf(alert)])

/** A message's id: its alerts (entries and their repeats), in any order. Same alerts, same id, on every attempt. */
export const messageIdOf = (entries: ReadonlyArray<{ readonly key: string; readonly repeats?: number }>): string =>
  digest(entries.map((e) => `${e.key}:${e.repeats ?? 0}`).sort())
