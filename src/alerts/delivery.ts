/**
 * Delivery: what is due, grouped into messages, paced, formatted, handed to its notifier, and recorded. Grouping is by
 * destination and notification type (and the formatter a rule picked), once ALERTS_GROUP_WAIT has passed since the
 * group's first alert; a message that failed is retried as it was (same alerts, same id), never merged with alerts
 * raised since. Pacing: a notifier's own rate per destination, and a third party's 429 holds its whole pacing group
 * (Slack's workspace), through the same quota the vendor sources use (shared by replicas on Redis).
 */
import type { Logger } from 'pino'
import { ALERTS_DELIVERIES_TOTAL, ALERTS_SILENCED_TOTAL, type Metrics } from '../metrics.js'
import type { Quota } from '../state/quota.js'
import { mapConcurrent } from '../util/map-concurrent.js'
import type { Alert, Delivered, FormatInput, Message, Notifier } from './api.js'
import { destinationId, messageIdOf } from './destinations.js'
import { settlementOf, type Outbox, type RetryPolicy, type Settlement } from './outbox.js'
import type { Registry } from './registry.js'
import { silenceFor, type Silence } from './silences.js'
import type { DeliveryOutcome, Destination, OutboxEntry } from './types.js'

/** One message's delivery, as reported (never a secret: destinations by label). */
export interface DeliveryReport {
  readonly destination: string
  readonly alerts: number
  readonly outcome: DeliveryOutcome['outcome'] | 'waiting' | 'dry_run' | 'silenced'
  readonly detail: string
}

/** The longest one notifier call may take before it is abandoned (and retried). */
const MAX_CALL_MS = 45_000
const GROUP_CONCURRENCY = 4

/** Which message an entry belongs in. */
const groupKeyOf = (e: OutboxEntry): string => {
  if (e.messageId !== undefined) return `message:${e.messageId}`
  if (e.email !== undefined) return `email:${e.key}`
  return `${destinationId(e.destination)}|${e.alert?.type ?? ''}|${e.formatter ?? ''}`
}

/**
 * Due entries -> the messages that may go now (a group waits ALERTS_GROUP_WAIT from its first alert, unless flushed).
 */
const readyGroups = (due: readonly OutboxEntry[], at: number, groupWaitMs: number, flush: boolean): OutboxEntry[][] => {
  const groups = new Map<string, OutboxEntry[]>()
  for (const e of due) {
    const k = groupKeyOf(e)
    groups.set(k, [...(groups.get(k) ?? []), e])
  }
  // Oldest first (a stable sort: alerts raised together keep the order the store gave them).
  return [...groups.values()]
    .map((g) => g.sort((a, b) => a.createdAt - b.createdAt))
    .filter(
      (g) =>
        flush || g.some((e) => e.messageId !== undefined || e.email !== undefined || at - e.createdAt >= groupWaitMs),
    )
}

/** A notifier's answer as an outcome: it resolved (delivered), or it threw (retry, unless it said `retry: false`). */
const outcomeOf = async (sending: Promise<Delivered | void>): Promise<DeliveryOutcome> => {
  try {
    const d = await sending
    return { outcome: 'sent', receipt: d?.receipt ?? '', detail: d?.detail ?? 'delivered' }
  } catch (err) {
    const e = (typeof err === 'object' && err !== null ? err : {}) as {
      message?: unknown
      retry?: unknown
      retryAfterMs?: unknown
      scope?: unknown
    }
    const reason = (typeof e.message === 'string' ? e.message : String(err)).replace(/[\r\n]+/g, ' ').slice(0, 500)
    if (e.retry === false) return { outcome: 'dead', reason }
    return {
      outcome: 'retry',
      reason,
      ...(typeof e.retryAfterMs === 'number' && e.retryAfterMs >= 0 ? { retryAfterMs: e.retryAfterMs } : {}),
      ...(e.scope === 'group' ? { scope: 'group' as const } : {}),
    }
  }
}

export interface Senders {
  /** The notifier for a destination (made once); throws a DeliveryError when it cannot be made. */
  senderFor(destination: Destination): Promise<Notifier>
  labelOf(destination: Destination): string
}

export interface DeliveryDeps {
  readonly registry: Registry
  readonly outbox: Outbox
  readonly senders: Senders
  readonly quota: Quota
  readonly metrics: Metrics
  readonly log: Logger
  readonly now: () => number
  readonly leaseMs: number
  readonly policy: RetryPolicy
  readonly product: string
  readonly groupWaitMs: number
  activeSilences(): Promise<readonly Silence[]>
}

export const createDelivery = (deps: DeliveryDeps) => {
  const { registry, outbox, senders, quota, metrics, log, now } = deps

  /** What a destination's message is made with: the rule's pick when it shapes this type, else the notifier's own. */
  const formatterFor = (destination: Destination, type: string, picked: string | undefined) => {
    const own = registry.notifiers.get(destination.kind)?.formatter
    const pick = picked === undefined ? undefined : registry.formatters.get(picked)
    if (pick !== undefined && (pick.types === undefined || pick.types.includes(type))) return pick
    return own === undefined ? undefined : registry.formatters.get(own)
  }

  const inputOf = (entries: readonly OutboxEntry[]): FormatInput => {
    const email = entries[0]?.email
    const alerts = entries.flatMap((e): Alert[] => (e.alert === undefined ? [] : [e.alert]))
    return {
      type: email !== undefined ? 'free-form' : (alerts[0]?.type ?? 'verdict'),
      alerts,
      ...(email !== undefined ? { email } : {}),
      product: deps.product,
    }
  }

  /** Formats one group for its destination; a formatter that throws is a bug, named. */
  const formatted = (
    destination: Destination,
    entries: readonly OutboxEntry[],
  ): { input: FormatInput; out: unknown } => {
    const input = inputOf(entries)
    const formatter = formatterFor(destination, input.type, entries[0]?.formatter)
    if (formatter === undefined) throw new Error(`no formatter for the ${destination.kind} notifier`)
    return { input, out: formatter.format(input) }
  }

  /** A notifier's pacing: how long to wait, or go (and settle the ticket when the call ends). */
  const pace = async (destination: Destination): Promise<{ waitMs: number } | { settle: () => Promise<void> }> => {
    const pacing = registry.notifiers.get(destination.kind)?.pacing
    if (pacing === undefined) return { settle: async () => undefined }
    const held = await quota.take(`alerts:pace:${pacing.group ?? destination.kind}`, [], MAX_CALL_MS)
    if (!held.granted) return { waitMs: held.waitMs }
    const key = `alerts:pace:${destinationId(destination)}`
    const windows = [{ requests: pacing.requests, perMs: pacing.perMs }]
    const ticket = await quota.take(key, windows, MAX_CALL_MS)
    if (!ticket.granted) return { waitMs: ticket.waitMs }
    return { settle: () => quota.settle(key, windows, ticket.ticket) }
  }

  /** One notifier call, abandoned after MAX_CALL_MS (its signal aborted, and it is retried). */
  const callNotifier = async (
    destination: Destination,
    build: (signal: AbortSignal) => Message,
  ): Promise<DeliveryOutcome> => {
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort()
        reject(new Error(`no answer within ${MAX_CALL_MS / 1000} s`))
      }, MAX_CALL_MS)
    })
    try {
      return await outcomeOf(
        (async () => {
          const sender = await senders.senderFor(destination)
          return Promise.race([sender.send(build(controller.signal)), timeout])
        })(),
      )
    } finally {
      clearTimeout(timer)
    }
  }

  /** After a call: a 429 for the whole pacing group holds the group. */
  const holdGroup = async (destination: Destination, outcome: DeliveryOutcome): Promise<void> => {
    const group = registry.notifiers.get(destination.kind)?.pacing?.group ?? destination.kind
    if (outcome.outcome === 'retry' && outcome.scope === 'group' && outcome.retryAfterMs !== undefined)
      await quota.pause(`alerts:pace:${group}`, outcome.retryAfterMs)
  }

  /** Records an outcome for claimed entries: each settles on its own attempts and age; alike ones in one write. */
  const record = async (claimed: readonly OutboxEntry[], outcome: DeliveryOutcome): Promise<void> => {
    const at = now()
    const alike = new Map<string, { result: Settlement; entries: OutboxEntry[] }>()
    for (const entry of claimed) {
      const result = settlementOf(outcome, entry, at, deps.policy, claimed.length)
      const id = JSON.stringify(result)
      const group = alike.get(id) ?? { result, entries: [] }
      group.entries.push(entry)
      alike.set(id, group)
    }
    for (const { result, entries } of alike.values()) await outbox.settle(entries, result)
  }

  /** Delivers one group (claimed first, so no other worker sends it) and records the outcome. */
  const deliverGroup = async (
    group: readonly OutboxEntry[],
    dryRun: boolean,
    print?: (text: string) => void,
  ): Promise<DeliveryReport> => {
    const destination = (group[0] as OutboxEntry).destination
    const label = senders.labelOf(destination)
    if (dryRun) {
      const { out } = formatted(destination, group)
      const n = group.length
      print?.(`--- would send to ${label} (${n} alert${n === 1 ? '' : 's'}) ---\n${JSON.stringify(out, null, 2)}`)
      return { destination: label, alerts: n, outcome: 'dry_run', detail: 'not sent (dry run)' }
    }
    const paced = await pace(destination)
    if ('waitMs' in paced)
      return { destination: label, alerts: group.length, outcome: 'waiting', detail: `pacing: ${paced.waitMs} ms` }
    const at = now()
    let claimed: OutboxEntry[]
    try {
      claimed = await outbox.claim(
        group.map((e) => e.key),
        at,
        at + deps.leaseMs,
        messageIdOf(group),
      )
    } catch (err) {
      await paced.settle()
      throw err
    }
    if (claimed.length === 0) {
      await paced.settle()
      return { destination: label, alerts: 0, outcome: 'waiting', detail: 'taken by another worker' }
    }
    let outcome: DeliveryOutcome
    try {
      const { input, out } = formatted(destination, claimed)
      outcome = await callNotifier(destination, (signal) => ({
        id: messageIdOf(claimed),
        type: input.type,
        alerts: input.alerts,
        ...(input.email !== undefined ? { email: input.email } : {}),
        formatted: out,
        attempt: Math.max(...claimed.map((e) => e.attempts)),
        signal,
      }))
    } catch (err) {
      // A formatter's bug: the entries are retried, the error is named.
      outcome = { outcome: 'retry', reason: `${label}: ${(err as Error).message}` }
    } finally {
      await paced.settle()
    }
    await holdGroup(destination, outcome)
    await record(claimed, outcome)
    metrics.inc(ALERTS_DELIVERIES_TOTAL, { notifier: destination.kind, outcome: outcome.outcome })
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

  /** Due entries a silence now holds are recorded as silenced (claimed first: another worker may be sending them). */
  const silenceDue = async (
    due: readonly OutboxEntry[],
  ): Promise<{ rest: OutboxEntry[]; reports: DeliveryReport[] }> => {
    const silences = await deps.activeSilences()
    if (silences.length === 0) return { rest: [...due], reports: [] }
    const at = now()
    const rest: OutboxEntry[] = []
    const held = new Map<Silence, OutboxEntry[]>()
    for (const e of due) {
      const s = e.alert !== undefined && e.state === 'pending' ? silenceFor(silences, e.alert, at) : undefined
      if (s === undefined) rest.push(e)
      else held.set(s, [...(held.get(s) ?? []), e])
    }
    const reports: DeliveryReport[] = []
    for (const [s, entries] of held) {
      const claimed = await outbox.claim(
        entries.map((e) => e.key),
        at,
        at + deps.leaseMs,
        messageIdOf(entries),
      )
      await outbox.settle(claimed, { state: 'silenced', at, until: s.endsAt, reason: `silenced: ${s.comment}` })
      for (const e of claimed) metrics.inc(ALERTS_SILENCED_TOTAL, { service: e.alert?.service ?? 'unknown' })
      if (claimed.length > 0)
        reports.push({
          destination: senders.labelOf(claimed[0]?.destination as Destination),
          alerts: claimed.length,
          outcome: 'silenced',
          detail: `silence ${s.id} until ${new Date(s.endsAt).toISOString()}`,
        })
    }
    return { rest, reports }
  }

  return {
    formatted,
    pace,
    callNotifier,
    holdGroup,
    deliverGroup,
    /** Everything due now, grouped; groups younger than ALERTS_GROUP_WAIT wait unless `flush`. */
    async deliverDue(
      opts: { readonly flush?: boolean; readonly dryRun?: boolean; readonly print?: (text: string) => void } = {},
    ): Promise<DeliveryReport[]> {
      const at = now()
      const due = await outbox.due(at)
      const { rest, reports } = opts.dryRun === true ? { rest: due, reports: [] } : await silenceDue(due)
      const ready = readyGroups(rest, at, deps.groupWaitMs, opts.flush === true)
      const delivered = await mapConcurrent(ready, GROUP_CONCURRENCY, (g) =>
        deliverGroup(g, opts.dryRun === true, opts.print),
      )
      return [...reports, ...delivered]
    },
  }
}
