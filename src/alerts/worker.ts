/**
 * The worker: it connects every service and notifier the rules use (each problem named at start-up, all at once),
 * hears the app's events for the event-driven services, polls the others, and owns the outbox, grouping, pacing and
 * retries (./delivery.ts), so a plugin's author writes none of that.
 *
 *   service (event or poll) -> sanitize -> alerts -> silences -> outbox (dedup key) -> delivery -> notifier -> record
 */
import { createHash, randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { ALERTS_ERRORS_TOTAL, ALERTS_RAISED_TOTAL, ALERTS_SILENCED_TOTAL, type Metrics } from '../metrics.js'
import type { Quota } from '../state/quota.js'
import { keyPrint } from '../state/key-print.js'
import {
  DeliveryError,
  type Alert,
  type FoundAlert,
  type FreeFormEmail,
  type Notifier,
  type PluginContext,
  type ServiceEvent,
} from './api.js'
import type { AlertConfig } from './config.js'
import { createDelivery, type DeliveryReport, type Senders } from './delivery.js'
import { alertIdOf, dedupKey, destinationId } from './destinations.js'
import { alertLine } from './formatters/alert-text.js'
import { DEFAULT_RETRY_POLICY, type NewEntry, type Outbox, type RetryPolicy } from './outbox.js'
import type { Durability } from './outbox-redis.js'
import { AlertConfigError, type AlertRule } from './rules.js'
import { MAX_SILENCE_MS, silenceFor, type Silence } from './silences.js'
import type { DeliveryOutcome, Destination, OutboxEntry } from './types.js'

export type { DeliveryReport } from './delivery.js'

export interface PollReport {
  readonly rule: string
  readonly found: number
  readonly added: number
  readonly error?: string
  /** A dry run's alerts, one line each (nothing is added to the outbox). */
  readonly preview?: readonly string[]
}

export interface WorkerOptions {
  readonly config: AlertConfig
  readonly outbox: Outbox
  readonly context: PluginContext
  readonly quota: Quota
  readonly metrics: Metrics
  readonly log: Logger
  /** Wall-clock ms (outbox times); tests pass their own. */
  readonly now?: () => number
  readonly leaseMs?: number
  readonly retryPolicy?: RetryPolicy
  /** How the outbox persists (Redis without an append-only file is not durable): said in /health and the log. */
  readonly durability?: Durability
}

/** Alerts a service found that lack what every alert needs are a plugin's bug: named, not sent half-made. */
const malformed = (f: FoundAlert): boolean =>
  typeof f?.indicator?.type !== 'string' || typeof f.indicator.value !== 'string' || typeof f.reason !== 'string'

const SAMPLE_ALERT = (now: number): Alert => {
  const base = {
    rule: 'test',
    service: 'verdict',
    type: 'verdict',
    indicator: { type: 'Host', value: 'test.example.invalid' },
    verdict: 'malicious',
    reason: 'a sample alert sent by POST /alerts/test: nothing was found',
    observedAt: new Date(now).toISOString(),
  }
  return { ...base, id: alertIdOf(base) }
}

const MAX_BACKLOG = 10_000
const PRUNE_EVERY_MS = 3_600_000
const SILENCE_CACHE_MS = 1_000
const POLL_TIMEOUT_MS = 5 * 60_000

/** Connects what the rules use and makes each destination's notifier; throws AlertConfigError naming every problem. */
const connectAll = async (config: AlertConfig, context: PluginContext) => {
  const { registry, rules } = config
  const problems: string[] = []
  const connections = new Map<string, unknown>()
  const serviceConnections = new Map<string, unknown>()
  const rulesUsing = (kind: string) =>
    rules.filter((r) => r.destinations.some((d) => d.kind === kind)).map((r) => `rule '${r.id}'`)
  const notifierKinds = new Set(rules.flatMap((r) => r.destinations.map((d) => d.kind)))
  if (config.settings.emailApi === 'on') notifierKinds.add('email')
  for (const kind of notifierKinds) {
    try {
      connections.set(kind, await registry.notifiers.get(kind)?.connect?.(context))
    } catch (err) {
      const who = rulesUsing(kind)
      problems.push(
        `${who.length > 0 ? who.join(', ') : 'ALERTS_EMAIL_API'}: destinations.${kind}: ${(err as Error).message}`,
      )
    }
  }
  const senders = new Map<string, Notifier>()
  for (const rule of rules)
    for (const d of rule.destinations) {
      if (!connections.has(d.kind) || senders.has(destinationId(d))) continue
      try {
        const def = registry.notifiers.get(d.kind)
        if (def !== undefined)
          senders.set(destinationId(d), def.create(d.settings, { ...context, connection: connections.get(d.kind) }))
      } catch (err) {
        problems.push(`rule '${rule.id}': destinations.${d.kind}: ${(err as Error).message}`)
      }
    }
  for (const kind of new Set(rules.map((r) => r.service))) {
    try {
      serviceConnections.set(kind, await registry.services.get(kind)?.connect?.(context))
    } catch (err) {
      problems.push(`service '${kind}': ${(err as Error).message}`)
    }
  }
  for (const rule of rules)
    for (const p of registry.services.get(rule.service)?.check?.(rule.fields, context) ?? [])
      problems.push(`rule '${rule.id}': ${p}`)
  const disconnect = async (): Promise<void> => {
    await Promise.allSettled([
      ...[...connections].map(async ([kind, c]) => registry.notifiers.get(kind)?.disconnect?.(c)),
      ...[...serviceConnections].map(async ([kind, c]) => registry.services.get(kind)?.disconnect?.(c)),
    ])
  }
  if (problems.length > 0) {
    await disconnect()
    throw new AlertConfigError('ALERTS_CONFIG', problems)
  }
  return { connections, serviceConnections, senders, disconnect }
}

export const openWorker = async (o: WorkerOptions) => {
  const { config, outbox, quota, metrics, log, context } = o
  const { registry, rules, settings } = config
  const now = o.now ?? Date.now
  const policy: RetryPolicy = { ...(o.retryPolicy ?? DEFAULT_RETRY_POLICY), maxAgeMs: settings.maxAgeMs }
  const connected = await connectAll(config, context)
  const ruleById = new Map(rules.map((r) => [r.id, r]))

  /** A destination's notifier: made at start-up for the rules' destinations, on demand for others (older entries). */
  const senders: Senders = {
    async senderFor(d: Destination) {
      const made = connected.senders.get(destinationId(d))
      if (made !== undefined) return made
      const def = registry.notifiers.get(d.kind)
      if (def === undefined)
        throw new DeliveryError(`the notifier kind '${d.kind}' is not loaded (is its plugin still in ALERTS_CONFIG?)`)
      if (!connected.connections.has(d.kind)) {
        try {
          connected.connections.set(d.kind, await def.connect?.(context))
        } catch (err) {
          throw new DeliveryError(`the ${d.kind} notifier cannot connect: ${(err as Error).message}`)
        }
      }
      let sender: Notifier
      try {
        sender = def.create(d.settings, { ...context, connection: connected.connections.get(d.kind) })
      } catch (err) {
        throw new DeliveryError(`${d.kind}: ${(err as Error).message}`, { retry: false })
      }
      connected.senders.set(destinationId(d), sender)
      return sender
    },
    labelOf: (d) => registry.notifiers.get(d.kind)?.label?.(d.settings) ?? `${d.kind} #${keyPrint(d.target)}`,
  }

  let silenceCache: { at: number; list: Silence[] } | undefined
  const activeSilences = async (): Promise<Silence[]> => {
    const at = now()
    if (silenceCache !== undefined && at - silenceCache.at < SILENCE_CACHE_MS) return silenceCache.list
    const list = (await outbox.listMeta('silence:'))
      .map(([, v]) => JSON.parse(v) as Silence)
      .filter((s) => s.endsAt > at)
    silenceCache = { at, list }
    return list
  }

  const delivery = createDelivery({
    registry,
    outbox,
    senders,
    quota,
    metrics,
    log,
    now,
    leaseMs: o.leaseMs ?? 60_000,
    policy,
    product: context.product,
    groupWaitMs: settings.groupWaitMs,
    activeSilences,
  })

  // Entries the outbox could not take (Redis away): kept here, bounded, and offered again before each delivery round.
  const backlog: NewEntry[] = []

  /** Into the outbox; counted by each new entry's own service. */
  const addToOutbox = async (entries: readonly NewEntry[]): Promise<number> => {
    const added = new Set(await outbox.add(entries, now()))
    let raised = 0
    // One count per key: two alerts with one key (an IP on two ports) are one entry.
    for (const e of new Map(entries.map((x) => [x.key, x])).values()) {
      if (!added.has(e.key) || e.alert === undefined) continue
      if (e.silencedUntil !== undefined) metrics.inc(ALERTS_SILENCED_TOTAL, { service: e.alert.service })
      else {
        metrics.inc(ALERTS_RAISED_TOTAL, { service: e.alert.service })
        raised++
      }
    }
    return raised
  }

  /** Entries -> the outbox; throws if it did not take them (they wait in memory). */
  const store = async (entries: readonly NewEntry[]): Promise<number> => {
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

  /** What a service found for a rule -> sanitized alerts -> one outbox entry per destination; answers how many new. */
  const raise = async (rule: AlertRule, found: readonly FoundAlert[]): Promise<number> => {
    const service = registry.services.get(rule.service)
    if (service === undefined || found.length === 0) return 0
    const clean = (service.sanitize?.(found, rule.fields) ?? found).filter((f) => {
      if (!malformed(f)) return true
      metrics.inc(ALERTS_ERRORS_TOTAL, { operation: 'malformed_alert' })
      log.error(
        { rule: rule.id, service: rule.service },
        'a service found an alert without indicator type, value or reason',
      )
      return false
    })
    const at = now()
    const observedAt = new Date(at).toISOString()
    // Silences unreadable (the store away): the alert is still kept; delivery checks the silences again.
    const silences = await activeSilences().catch(() => silenceCache?.list ?? [])
    const entries = clean.flatMap((f): NewEntry[] => {
      const base = { ...f, observedAt: f.observedAt ?? observedAt, rule: rule.id, service: rule.service }
      const alert: Alert = { ...base, type: service.type ?? rule.service, id: alertIdOf(base) }
      const silence = silenceFor(silences, alert, at)
      return rule.destinations.map((destination) => ({
        key: dedupKey(alert, destination),
        destination,
        alert,
        ...(rule.formatters[destination.kind] !== undefined ? { formatter: rule.formatters[destination.kind] } : {}),
        ...(rule.repeatIntervalMs !== undefined ? { rearmAfterMs: rule.repeatIntervalMs } : {}),
        ...(silence !== undefined ? { silencedUntil: silence.endsAt } : {}),
      }))
    })
    return store(entries)
  }

  const rulesHearing = (event: ServiceEvent) => rules.filter((r) => registry.services.get(r.service)?.hears === event)
  const pollingRules = rules.filter((r) => typeof registry.services.get(r.service)?.fetch === 'function')

  /** An app event -> every rule whose service hears it; answers how many alerts were new. */
  const emit = async (event: ServiceEvent, payloads: readonly unknown[]): Promise<number> => {
    let added = 0
    for (const rule of rulesHearing(event)) {
      const service = registry.services.get(rule.service)
      let found: FoundAlert[]
      try {
        found = payloads.flatMap((p) => [...(service?.select?.(rule.fields, p) ?? [])])
      } catch (err) {
        metrics.inc(ALERTS_ERRORS_TOTAL, { operation: 'select' })
        log.error(
          { rule: rule.id, err: (err as Error).message },
          'a service failed on an event; its rule raised nothing',
        )
        continue
      }
      added += await raise(rule, found)
    }
    return added
  }

  /** Every polling rule once: its alerts into the outbox, then its checkpoint (so a crash re-reads, never skips). */
  const poll = async (opts: { readonly dryRun?: boolean } = {}): Promise<PollReport[]> => {
    const reports: PollReport[] = []
    for (const rule of pollingRules) {
      const service = registry.services.get(rule.service)
      if (service?.fetch === undefined) continue
      const name = `checkpoint:${rule.service}:${rule.id}`
      const controller = new AbortController()
      const timer = setTimeout(() => controller.abort(), POLL_TIMEOUT_MS)
      try {
        const checkpoint = await outbox.meta(name)
        const result = await service.fetch({
          rule: rule.fields,
          connection: connected.serviceConnections.get(rule.service),
          checkpoint,
          now: now(),
          signal: controller.signal,
        })
        if (opts.dryRun === true) {
          const preview = result.alerts.map((f) =>
            alertLine({ ...f, id: '', rule: rule.id, service: rule.service, type: rule.service, observedAt: '' }),
          )
          reports.push({ rule: rule.id, found: result.alerts.length, added: 0, preview })
          continue
        }
        const added = await raise(rule, result.alerts)
        if (result.checkpoint !== undefined && result.checkpoint !== checkpoint)
          await outbox.setMeta(name, result.checkpoint)
        reports.push({ rule: rule.id, found: result.alerts.length, added })
        if (result.truncated === true)
          log.warn({ rule: rule.id }, 'a poll read its page limit; the next poll goes on from the checkpoint')
      } catch (err) {
        metrics.inc(ALERTS_ERRORS_TOTAL, { operation: 'poll' })
        const error = (err as Error).message
        log.warn({ rule: rule.id, service: rule.service, error }, 'polling failed')
        reports.push({ rule: rule.id, found: 0, added: 0, error })
      } finally {
        clearTimeout(timer)
      }
    }
    return reports
  }

  let prunedAt = 0
  /** Final entries past ALERTS_RETENTION, and idempotency records as old, are deleted (at most once an hour). */
  const prune = async (force = false): Promise<number> => {
    const at = now()
    if (!force && at - prunedAt < PRUNE_EVERY_MS) return 0
    prunedAt = at
    const before = at - settings.retentionMs
    const pruned = await outbox.prune(before)
    for (const [name, value] of await outbox.listMeta('email-idem:'))
      if (Number(value.split(':')[1] ?? 0) < before) await outbox.deleteMeta(name)
    for (const [name, value] of await outbox.listMeta('silence:'))
      if ((JSON.parse(value) as Silence).endsAt < before) await outbox.deleteMeta(name)
    if (pruned > 0) log.info({ pruned }, 'outbox entries past ALERTS_RETENTION deleted')
    return pruned
  }

  /** Thrown when an Idempotency-Key is used again for another e-mail. */
  class IdempotencyConflict extends Error {}

  /** Free-form e-mail: one outbox entry per recipient (none sees the others), then an attempt at once. */
  const sendEmail = async (
    email: { readonly to: readonly string[]; readonly subject: string; readonly text: string; readonly html?: string },
    idempotencyKey: string | undefined,
  ): Promise<OutboxEntry[]> => {
    const content = createHash('sha256')
      .update(JSON.stringify([email.to, email.subject, email.text, email.html ?? null]))
      .digest('hex')
    const id = idempotencyKey ?? randomUUID()
    if (idempotencyKey !== undefined) {
      const name = `email-idem:${keyPrint(idempotencyKey)}`
      const held = await outbox.meta(name)
      if (held !== undefined && held.split(':')[0] !== content) throw new IdempotencyConflict()
      if (held === undefined) await outbox.setMeta(name, `${content}:${now()}`)
    }
    const entries: NewEntry[] = email.to.map((to) => {
      const one: FreeFormEmail = {
        to,
        subject: email.subject,
        text: email.text,
        ...(email.html !== undefined ? { html: email.html } : {}),
      }
      return {
        key: createHash('sha256').update(`email:${id}:${to}`).digest('hex').slice(0, 32),
        destination: { kind: 'email', target: to, settings: to },
        email: one,
      }
    })
    await outbox.add(entries, now())
    const out: OutboxEntry[] = []
    for (const e of entries) {
      const entry = await outbox.get(e.key)
      if (entry !== undefined && (entry.state === 'pending' || entry.state === 'failed'))
        await delivery.deliverGroup([entry], false)
      const after = (await outbox.get(e.key)) ?? entry
      if (after !== undefined) out.push(after)
    }
    return out
  }

  /** The destination a rule names with these settings, if any: a test goes only where alerts may go. */
  const ruleDestination = (kind: string, settings: unknown): Destination | undefined => {
    const def = registry.notifiers.get(kind)
    if (def === undefined) return undefined
    const target = def.target?.(settings) ?? JSON.stringify(settings)
    return rules.flatMap((r) => r.destinations).find((d) => d.kind === kind && d.target === target)
  }

  /** A sample alert to one of the rules' destinations, paced like any message (not through the outbox). */
  const sendTest = async (
    destination: Destination,
  ): Promise<DeliveryOutcome | { outcome: 'waiting'; waitMs: number }> => {
    const alert = SAMPLE_ALERT(now())
    const entry: OutboxEntry = {
      key: 'test',
      destination,
      alert,
      state: 'sending',
      createdAt: now(),
      notBefore: now(),
      attempts: 1,
    }
    const { input, out } = delivery.formatted(destination, [entry])
    const paced = await delivery.pace(destination)
    if ('waitMs' in paced) return { outcome: 'waiting', waitMs: paced.waitMs }
    let outcome: DeliveryOutcome
    try {
      outcome = await delivery.callNotifier(destination, (signal) => ({
        id: `test-${randomUUID()}`,
        type: input.type,
        alerts: input.alerts,
        formatted: out,
        attempt: 1,
        signal,
      }))
    } finally {
      await paced.settle()
    }
    await delivery.holdGroup(destination, outcome)
    return outcome
  }

  /** A new silence; answers it. The route checks the request; this checks what a silence must be. */
  const silence = async (input: Omit<Silence, 'id' | 'createdAt'>): Promise<Silence> => {
    const at = now()
    if (input.rule === undefined && input.indicator === undefined)
      throw new Error('a silence needs a rule or an indicator')
    if (input.endsAt <= at) throw new Error('endsAt: in the past')
    if (input.endsAt - at > MAX_SILENCE_MS) throw new Error(`endsAt: at most ${MAX_SILENCE_MS / 86_400_000} days ahead`)
    const s: Silence = { ...input, id: randomUUID(), createdAt: at }
    await outbox.setMeta(`silence:${s.id}`, JSON.stringify(s))
    silenceCache = undefined
    return s
  }

  return {
    rules,
    settings,
    outbox,
    /** For GET /alerts: a destination by its label (never a secret). */
    labelOf: senders.labelOf,
    /** The verdict service's event: /run results. Answers how many alerts were new. */
    observeRun: (events: readonly unknown[]) => emit('verdict', events),
    /** The feed service's event: a feed's newly added indicators. */
    observeFeed: (event: unknown) => emit('feed', [event]),
    /** Whether any rule hears /run: without one, /run builds no events at all. */
    hearsVerdicts: rulesHearing('verdict').length > 0,
    hasPolling: pollingRules.length > 0,
    /** Alerts raised while the outbox was unreachable, waiting in memory. */
    backlog: () => backlog.length,
    durability: o.durability,
    canEmail: settings.emailApi === 'on' && connected.connections.has('email'),
    poll,
    async deliverDue(opts: Parameters<typeof delivery.deliverDue>[0] = {}): Promise<DeliveryReport[]> {
      await flushBacklog()
      await prune()
      return delivery.deliverDue(opts)
    },
    prune: () => prune(true),
    sendEmail,
    IdempotencyConflict,
    ruleDestination,
    sendTest,
    silence,
    silences: activeSilences,
    async unsilence(id: string): Promise<boolean> {
      const held = await outbox.meta(`silence:${id}`)
      if (held === undefined) return false
      await outbox.deleteMeta(`silence:${id}`)
      silenceCache = undefined
      return true
    },
    ruleOf: (id: string) => ruleById.get(id),
    async close() {
      await connected.disconnect()
      await outbox.close()
    },
  }
}

export type Worker = Awaited<ReturnType<typeof openWorker>>
