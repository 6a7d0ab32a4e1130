/**
 * The alert service: services raise alerts -> one outbox entry per (alert, destination), deduplicated -> the worker
 * groups what is due per destination (ALERTS_GROUP_WAIT), formats it for the destination's kind, and hands it to the
 * notifier -> the outcome is recorded (sent, failed and retried later, dead). Formatting happens at delivery, after
 * grouping, so one message can carry many alerts. Pacing: Slack's ~1 message a second per channel, and a 429's
 * Retry-After holds every Slack call (the workspace), through the same quota the vendor sources use (shared by
 * replicas on Redis).
 */
import { createHash, randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { AlertSettings } from '../config/alert-settings.js'
import { ALERTS_DELIVERIES_TOTAL, ALERTS_ERRORS_TOTAL, ALERTS_RAISED_TOTAL, type Metrics } from '../metrics.js'
import type { PlatformClient } from '../platform/client.js'
import type { Quota } from '../state/quota.js'
import { mapConcurrent } from '../util/map-concurrent.js'
import { dedupKey, destinationId, destinationLabel } from './destinations.js'
import { alertLine } from './formatters/alert-text.js'
import { formatEmail } from './formatters/email.js'
import { formatSlack, type SlackMessage } from './formatters/slack.js'
import { formatWebhook, type WebhookBody } from './formatters/webhook.js'
import type { OutgoingEmail } from './notifiers/email.js'
import type { Notifier } from './notifiers/notifier.js'
import {
  DEFAULT_RETRY_POLICY,
  settlementOf,
  type NewEntry,
  type Outbox,
  type RetryPolicy,
  type Settlement,
} from './outbox.js'
import { ruleDestinations, type AlertRule } from './rules.js'
import { feedAlerts, type FeedEvent } from './services/feed.js'
import { verdictAlerts, type VerdictEvent } from './services/verdict.js'
import { pollWatchlist } from './services/watchlist.js'
import {
  type Alert,
  type AlertServiceId,
  type DeliveryOutcome,
  type Destination,
  type FreeFormEmail,
  type OutboxEntry,
} from './types.js'

export interface AlertNotifiers {
  readonly slack?: Notifier<SlackMessage>
  readonly slackWebhook?: Notifier<SlackMessage>
  readonly email?: Notifier<OutgoingEmail>
  readonly webhook?: Notifier<WebhookBody>
}

export interface AlertServiceOptions {
  readonly settings: Pick<AlertSettings, 'groupWaitMs' | 'maxAgeMs'>
  readonly rules: readonly AlertRule[]
  readonly outbox: Outbox
  readonly notifiers: AlertNotifiers
  /** For the watchlist service; undefined when no ThreatConnect API is configured. */
  readonly platform?: { readonly client: PlatformClient; readonly owner: string | undefined }
  readonly quota: Quota
  readonly metrics: Metrics
  readonly log: Logger
  /** Wall-clock ms (outbox times); tests pass their own. */
  readonly now?: () => number
  /** The product's name in messages. */
  readonly product: string
  readonly leaseMs?: number
  readonly retryPolicy?: RetryPolicy
}

/** One message's delivery, as reported (never a secret: destinations by label). */
export interface DeliveryReport {
  readonly destination: string
  readonly alerts: number
  readonly outcome: DeliveryOutcome['outcome'] | 'waiting' | 'dry_run'
  readonly detail: string
}

export interface PollReport {
  readonly rule: string
  readonly found: number
  readonly added: number
  readonly error?: string
  /** A dry run's alerts, one line each (nothing is added to the outbox). */
  readonly preview?: readonly string[]
}

const SLACK_CHANNEL_RATE = [{ requests: 1, perMs: 1_000 }] as const
const WORKSPACE_KEY = 'alerts:slack:workspace'
const MAX_CALL_MS = 45_000
const GROUP_CONCURRENCY = 4

const notifierIdOf = (d: Destination): keyof AlertNotifiers =>
  d.kind === 'slackChannel' || d.kind === 'slackUser'
    ? 'slack'
    : d.kind === 'slackWebhook'
      ? 'slackWebhook'
      : d.kind === 'email'
        ? 'email'
        : 'webhook'

const SAMPLE_ALERT = (now: number): Alert => ({
  ruleId: 'test',
  service: 'verdict',
  indicator: { type: 'Host', value: 'test.example.invalid' },
  verdict: 'malicious',
  reason: 'a sample alert sent by POST /alerts/test: nothing was found',
  observedAt: new Date(now).toISOString(),
})

export const createAlertService = (options: AlertServiceOptions) => {
  const { outbox, notifiers, quota, metrics, log } = options
  const now = options.now ?? Date.now
  const leaseMs = options.leaseMs ?? 60_000
  const policy: RetryPolicy = { ...(options.retryPolicy ?? DEFAULT_RETRY_POLICY), maxAgeMs: options.settings.maxAgeMs }
  const rulesOf = <S extends AlertServiceId>(service: S) =>
    options.rules.filter((r): r is Extract<AlertRule, { service: S }> => r.service === service)
  const verdictRules = rulesOf('verdict')
  const feedRules = rulesOf('feed')
  const watchlistRules = rulesOf('watchlist')
  const ruleById = new Map(options.rules.map((r) => [r.id, r]))

  // Entries the outbox could not take (Redis away): kept here, bounded, and offered again before each delivery round.
  const backlog: NewEntry[] = []
  const MAX_BACKLOG = 10_000

  /** Into the outbox; counted by each new entry's own service. */
  const addToOutbox = async (entries: readonly NewEntry[]): Promise<number> => {
    const added = new Set(await outbox.add(entries, now()))
    for (const e of entries)
      if (added.has(e.key) && e.alert !== undefined) metrics.inc(ALERTS_RAISED_TOTAL, { service: e.alert.service })
    return added.size
  }

  /**
   * Alerts -> one outbox entry per destination of their rule; answers how many were new. Throws if the outbox did not
   * take them (they wait in memory).
   */
  const raise = async (alerts: readonly Alert[]): Promise<number> => {
    const entries: NewEntry[] = alerts.flatMap((alert) => {
      const rule = ruleById.get(alert.ruleId)
      return rule === undefined
        ? []
        : ruleDestinations(rule).map((destination) => ({ key: dedupKey(alert, destination), destination, alert }))
    })
    if (entries.length === 0) return 0
    try {
      return await addToOutbox(entries)
    } catch (err) {
      backlog.push(...entries)
      const over = backlog.length - MAX_BACKLOG
      if (over > 0) {
        backlog.splice(0, over)
        metrics.inc(ALERTS_ERRORS_TOTAL, { operation: 'backlog_overflow' }, over)
        log.error(
          { dropped: over },
          'alert backlog full while the outbox is unreachable: the oldest alerts were dropped',
        )
      }
      throw new Error(
        `the outbox (${outbox.where}) did not take ${entries.length} alert(s); kept in memory until it answers: ${(err as Error).message}`,
      )
    }
  }

  /** Offers the backlog to the outbox again (dedup makes a repeat harmless). */
  const flushBacklog = async (): Promise<void> => {
    if (backlog.length === 0) return
    const entries = backlog.splice(0)
    try {
      await addToOutbox(entries)
      log.info({ alerts: entries.length }, 'alerts kept in memory are in the outbox now')
    } catch (err) {
      backlog.unshift(...entries)
      throw err
    }
  }

  type Outgoing =
    | { notifier: 'slack' | 'slackWebhook'; message: SlackMessage }
    | { notifier: 'email'; message: OutgoingEmail }
    | { notifier: 'webhook'; message: WebhookBody }

  const format = (destination: Destination, entries: readonly OutboxEntry[]): Outgoing => {
    const notifier = notifierIdOf(destination)
    const freeForm = entries[0]?.email
    if (notifier === 'email' && freeForm !== undefined) {
      return {
        notifier,
        message: { to: freeForm.to, subject: freeForm.subject, text: freeForm.text, html: freeForm.html ?? '' },
      }
    }
    const alerts = entries.flatMap((e) => (e.alert === undefined ? [] : [e.alert]))
    if (notifier === 'email') return { notifier, message: formatEmail(alerts, options.product) }
    if (notifier === 'webhook') return { notifier, message: formatWebhook(alerts, options.product) }
    return { notifier, message: formatSlack(alerts) }
  }

  const send = async (destination: Destination, out: Outgoing, idempotencyKey: string): Promise<DeliveryOutcome> => {
    const n = notifiers[out.notifier]
    if (n === undefined)
      return { outcome: 'dead', reason: `${destinationLabel(destination)}: no ${out.notifier} notifier is configured` }
    // Each branch hands its notifier the message its formatter made.
    if (out.notifier === 'email')
      return (n as Notifier<OutgoingEmail>).deliver(destination, out.message, { idempotencyKey })
    if (out.notifier === 'webhook')
      return (n as Notifier<WebhookBody>).deliver(destination, out.message, { idempotencyKey })
    return (n as Notifier<SlackMessage>).deliver(destination, out.message, { idempotencyKey })
  }

  /** Slack's pacing: how long to wait, or go (and settle the ticket when the call ends). */
  const pace = async (destination: Destination): Promise<{ waitMs: number } | { settle: () => Promise<void> }> => {
    if (destination.kind !== 'slackChannel' && destination.kind !== 'slackUser')
      return { settle: async () => undefined }
    const workspace = await quota.take(WORKSPACE_KEY, [], MAX_CALL_MS)
    if (!workspace.granted) return { waitMs: workspace.waitMs }
    const key = `alerts:slack:${destinationId(destination)}`
    const channel = await quota.take(key, SLACK_CHANNEL_RATE, MAX_CALL_MS)
    if (!channel.granted) return { waitMs: channel.waitMs }
    return { settle: () => quota.settle(key, SLACK_CHANNEL_RATE, channel.ticket) }
  }

  /** Delivers one group (claimed first, so no other worker sends it), records the outcome. */
  const deliverGroup = async (
    destination: Destination,
    group: readonly OutboxEntry[],
    dryRun: boolean,
    print?: (text: string) => void,
  ): Promise<DeliveryReport> => {
    const label = destinationLabel(destination)
    if (dryRun) {
      const out = format(destination, group)
      print?.(
        `--- would send to ${label} (${group.length} alert${group.length === 1 ? '' : 's'}) ---\n${JSON.stringify(out.message, null, 2)}`,
      )
      return { destination: label, alerts: group.length, outcome: 'dry_run', detail: 'not sent (dry run)' }
    }
    const paced = await pace(destination)
    if ('waitMs' in paced)
      return {
        destination: label,
        alerts: group.length,
        outcome: 'waiting',
        detail: `Slack pacing: ${paced.waitMs} ms`,
      }
    const at = now()
    const claimed = await outbox.claim(
      group.map((e) => e.key),
      at,
      at + leaseMs,
    )
    if (claimed.length === 0) {
      await paced.settle()
      return { destination: label, alerts: 0, outcome: 'waiting', detail: 'taken by another worker' }
    }
    const out = format(destination, claimed)
    const idempotencyKey = createHash('sha256')
      .update(
        claimed
          .map((e) => e.key)
          .sort()
          .join(','),
      )
      .digest('hex')
      .slice(0, 32)
    let outcome: DeliveryOutcome
    try {
      outcome = await send(destination, out, idempotencyKey)
    } catch (err) {
      // A notifier bug: the entries are retried, the error is named.
      outcome = { outcome: 'retry', reason: `${label}: ${(err as Error).message}` }
    } finally {
      await paced.settle()
    }
    if (
      outcome.outcome === 'retry' &&
      outcome.scope === 'workspace' &&
      destination.kind.startsWith('slack') &&
      outcome.retryAfterMs !== undefined
    ) {
      await quota.pause(WORKSPACE_KEY, outcome.retryAfterMs)
    }
    const settledAt = now()
    // They went out as one message; each entry settles on its own attempts and age (a retry's backoff), and entries
    // that settle alike (every one, when sent or dead) are recorded in one write.
    const alike = new Map<string, { result: Settlement; entries: OutboxEntry[] }>()
    for (const entry of claimed) {
      const result = settlementOf(outcome, entry, settledAt, policy, claimed.length)
      const id = JSON.stringify(result)
      const group = alike.get(id) ?? { result, entries: [] }
      group.entries.push(entry)
      alike.set(id, group)
    }
    for (const { result, entries } of alike.values()) await outbox.settle(entries, result)
    metrics.inc(ALERTS_DELIVERIES_TOTAL, { notifier: out.notifier, outcome: outcome.outcome })
    const detail = outcome.outcome === 'sent' ? outcome.detail : outcome.reason
    const line = { destination: label, alerts: claimed.length, outcome: outcome.outcome, detail }
    if (outcome.outcome === 'sent') log.info(line, 'alert delivered')
    else
      log.warn(
        line,
        outcome.outcome === 'dead' ? 'alert not deliverable (dead letter)' : 'alert delivery failed; will retry',
      )
    return line
  }

  /** Everything due now, grouped by destination; groups younger than ALERTS_GROUP_WAIT wait unless `flush`. */
  const deliverDue = async (
    opts: { readonly flush?: boolean; readonly dryRun?: boolean; readonly print?: (text: string) => void } = {},
  ): Promise<DeliveryReport[]> => {
    await flushBacklog()
    const at = now()
    const due = await outbox.due(at)
    const groups = new Map<string, { destination: Destination; entries: OutboxEntry[] }>()
    for (const e of due) {
      // A free-form e-mail is its own message.
      const id = e.email !== undefined ? `email-once:${e.key}` : destinationId(e.destination)
      const g = groups.get(id) ?? { destination: e.destination, entries: [] }
      g.entries.push(e)
      groups.set(id, g)
    }
    const ready = [...groups.values()].filter(
      (g) =>
        opts.flush === true ||
        g.entries.some((e) => e.email !== undefined || at - e.createdAt >= options.settings.groupWaitMs),
    )
    return mapConcurrent(ready, GROUP_CONCURRENCY, (g) =>
      deliverGroup(g.destination, g.entries, opts.dryRun === true, opts.print),
    )
  }

  const pollWatchlists = async (opts: { readonly dryRun?: boolean } = {}): Promise<PollReport[]> => {
    const reports: PollReport[] = []
    for (const rule of watchlistRules) {
      if (options.platform === undefined) {
        reports.push({
          rule: rule.id,
          found: 0,
          added: 0,
          error: 'no ThreatConnect API is configured (TC_API_PATH with TC_API_ACCESS_ID/TC_API_SECRET_KEY or TC_TOKEN)',
        })
        continue
      }
      try {
        const checkpoint = await outbox.checkpoint(`watchlist:${rule.id}`)
        const poll = await pollWatchlist(rule, options.platform.client, {
          owner: options.platform.owner,
          checkpoint,
          now: now(),
        })
        if (opts.dryRun === true) {
          reports.push({ rule: rule.id, found: poll.alerts.length, added: 0, preview: poll.alerts.map(alertLine) })
          continue
        }
        const added = await raise(poll.alerts)
        // Only once its alerts are in the outbox: a crash before this re-reads them (and dedup drops the repeats).
        if (poll.checkpoint !== undefined && poll.checkpoint !== checkpoint)
          await outbox.setCheckpoint(`watchlist:${rule.id}`, poll.checkpoint)
        reports.push({ rule: rule.id, found: poll.alerts.length, added })
        if (poll.truncated)
          log.warn({ rule: rule.id }, 'watchlist poll read its page limit; the next poll goes on from the checkpoint')
      } catch (err) {
        metrics.inc(ALERTS_ERRORS_TOTAL, { operation: 'watchlist_poll' })
        const error = (err as Error).message
        log.warn({ rule: rule.id, error }, 'watchlist poll failed')
        reports.push({ rule: rule.id, found: 0, added: 0, error })
      }
    }
    return reports
  }

  /** Free-form e-mail: into the outbox (kept until delivered), then an attempt at once. */
  const sendEmail = async (email: FreeFormEmail, idempotencyKey: string | undefined): Promise<OutboxEntry> => {
    const key = createHash('sha256')
      .update(`email:${idempotencyKey ?? randomUUID()}`)
      .digest('hex')
      .slice(0, 32)
    await outbox.add([{ key, destination: { kind: 'email', target: email.to.join(',') }, email }], now())
    const entry = await outbox.get(key)
    if (entry !== undefined && (entry.state === 'pending' || entry.state === 'failed'))
      await deliverGroup(entry.destination, [entry], false)
    return (await outbox.get(key)) ?? (entry as OutboxEntry)
  }

  /** A sample alert straight to one destination (not through the outbox): what the third party said. */
  const sendTest = async (destination: Destination): Promise<DeliveryOutcome> => {
    const out = format(destination, [
      {
        key: 'test',
        destination,
        alert: SAMPLE_ALERT(now()),
        state: 'sending',
        createdAt: now(),
        notBefore: now(),
        attempts: 0,
      },
    ])
    return send(destination, out, `test-${randomUUID()}`)
  }

  return {
    rules: options.rules,
    outbox,
    raise,
    /** The verdict service: /run results that meet a rule. */
    observeRun: (events: readonly VerdictEvent[]) =>
      verdictRules.length === 0
        ? Promise.resolve(0)
        : raise(verdictAlerts(verdictRules, events, new Date(now()).toISOString())),
    /** The feed service: a feed's newly added indicators. */
    observeFeed: (event: FeedEvent) =>
      feedRules.length === 0 ? Promise.resolve(0) : raise(feedAlerts(feedRules, event, new Date(now()).toISOString())),
    hasWatchlists: watchlistRules.length > 0,
    /** Whether any rule listens to /run verdicts: without one, /run builds no events at all. */
    hasVerdictRules: verdictRules.length > 0,
    /** Alerts raised while the outbox was unreachable, waiting in memory. */
    backlog: () => backlog.length,
    canEmail: notifiers.email !== undefined,
    pollWatchlists,
    deliverDue,
    sendEmail,
    sendTest,
    async close() {
      await Promise.allSettled(Object.values(notifiers).map((n: Notifier<unknown> | undefined) => n?.close()))
      await outbox.close()
    },
  }
}

export type AlertService = ReturnType<typeof createAlertService>
