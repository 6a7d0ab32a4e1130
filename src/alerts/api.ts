/**
 * The alert library's public words (`import { ... } from 'tc-enrich/alerts'`): one small shape per role, and the
 * plugin that bundles them. A **service** finds alerts (it polls on the worker's schedule, or hears the app's events);
 * a **formatter** turns a group of alerts of one notification type into a message; a **notifier** sends that message to
 * one destination and says how it went (it resolves: delivered; it throws: retry later, unless the error says
 * `retry: false`). The worker (src/alerts/worker.ts) owns the rest: the outbox, grouping, pacing and retries.
 *
 * The built-ins (src/alerts/builtin.ts) are written on these same shapes: nothing here is private to them.
 */
import type { Logger } from 'pino'
import type { TObject, TSchema } from 'typebox'
import type { HttpClient } from '../http/types.js'
import type { PlatformClient } from '../platform/client.js'

/** The built-in notification types; a plugin's service may name its own. */
export const NOTIFICATION_TYPES = ['verdict', 'watchlist', 'feed', 'free-form'] as const
export type NotificationType = (typeof NOTIFICATION_TYPES)[number] | (string & {})

/** One alert as every formatter and notifier sees it. */
export interface Alert {
  /** Stable for this alert (rule, indicator, verdict or rating, which repeat it is): a receiver dedups on it. */
  readonly id: string
  /** The rule that raised it. */
  readonly rule: string
  /** The service kind that found it. */
  readonly service: string
  /** Its notification type (the service's): verdict, watchlist, feed, or a plugin's own. */
  readonly type: NotificationType
  readonly indicator: { readonly type: string; readonly value: string }
  /** The verdict (verdict service), or */
  readonly verdict?: string
  /** the Threat Rating 0-5 (feed, watchlist). */
  readonly rating?: number
  readonly confidence?: number
  /** One line on why: the sources that spoke, the feed it came from, the query that matched. */
  readonly reason: string
  readonly tags?: readonly string[]
  /** ISO 8601: when the service saw it. */
  readonly observedAt: string
  /** The indicator's page in ThreatConnect, when known. */
  readonly link?: string
  /** A service's own facts a formatter may show (a score, a feed's name); short values only. */
  readonly details?: Readonly<Record<string, string | number | boolean>>
}

/** What a service hands the worker: the worker adds the id, rule, service, type and (unless given) observedAt. */
export type FoundAlert = Omit<Alert, 'id' | 'rule' | 'service' | 'type' | 'observedAt'> & {
  readonly observedAt?: string
}

/** A free-form e-mail (POST /alerts/email): one recipient per outbox entry, so nobody sees the others. */
export interface FreeFormEmail {
  readonly to: string
  readonly subject: string
  readonly text: string
  readonly html?: string
}

/** What a formatter is given: one group's alerts, all of one notification type (or a free-form e-mail). */
export interface FormatInput {
  readonly type: NotificationType
  readonly alerts: readonly Alert[]
  readonly email?: FreeFormEmail
  /** The product's name, for titles. */
  readonly product: string
}

/**
 * A formatter: data in, message out; pure. `types` names the notification types it shapes; a rule that picks it for
 * a notifier (`"formatters": {"<notifier kind>": "<formatter kind>"}`) still gets the notifier's own formatter for
 * the other types. Without `types` it shapes every type.
 */
export interface FormatterDefinition<F = unknown> {
  readonly types?: readonly NotificationType[]
  format(input: FormatInput): F
}

/** One message on its way to one destination: a group of alerts, formatted. */
export interface Message<F = unknown> {
  /** The same alerts carry the same id on every attempt (an Idempotency-Key, a Standard Webhooks `webhook-id`). */
  readonly id: string
  readonly type: NotificationType
  readonly alerts: readonly Alert[]
  readonly email?: FreeFormEmail
  /** What the formatter made of them. */
  readonly formatted: F
  /** 1 on the first try. */
  readonly attempt: number
  /** Aborted when the worker gives up on the call (it is then retried). */
  readonly signal: AbortSignal
}

/** What a notifier may say of a delivery: the third party's receipt (a message id, a timestamp) and a line on it. */
export interface Delivered {
  readonly receipt?: string
  readonly detail?: string
}

/** One destination's sender, made by a notifier's `create`. */
export interface Notifier<F = unknown> {
  /** Resolves when delivered; a throw is "retry later", unless the error says `retry: false` (then it is dead). */
  send(message: Message<F>): Promise<Delivered | void>
}

/** What every plugin part is handed: the process's logger, clock and request client; nothing global. */
export interface PluginContext {
  readonly log: Logger
  readonly product: string
  /** The process's environment: where a plugin reads its own settings and credentials. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Named TQL queries from ALERTS_CONFIG's `"savedQueries"`. */
  readonly savedQueries: Readonly<Record<string, string>>
  /** Wall-clock ms. */
  now(): number
  /**
   * A client for one origin, through the service's one request client: timeouts, a size cap, proxies, metrics,
   * and `secrets` kept out of logs. One attempt per call: the worker owns retries.
   */
  http(options: {
    readonly name: string
    readonly baseUrl: string
    readonly timeouts?: { readonly connectMs?: number; readonly responseMs?: number; readonly totalMs?: number }
  }): HttpClient
  /** The ThreatConnect API, when the service is configured with one (TC_API_PATH and credentials). */
  readonly threatConnect?: ThreatConnectAccess
}

/** The ThreatConnect client's TQL listing, for a service that watches the owner's indicators. */
export interface ThreatConnectAccess extends Pick<PlatformClient, 'queryIndicators'> {
  readonly owner: string | undefined
}

/** How often a notifier may send: at most `requests` per `perMs` to one destination. */
export interface Pacing {
  readonly requests: number
  readonly perMs: number
  /**
   * Notifiers that share a third party's limit name the same group: a 429 from one holds them all (Slack's
   * workspace). Default: the notifier's kind.
   */
  readonly group?: string
}

export interface NotifierDefinition<S = any, F = any, C = any> {
  /** One destination's settings as a rule writes them, checked at start-up (every problem named at once). */
  readonly settings?: TSchema
  /** The formatter kind that makes its messages. */
  readonly formatter: string
  readonly pacing?: Pacing
  /** What tells two destinations apart (dedup, grouping, pacing); default: the settings as JSON. */
  target?(settings: S): string
  /** How logs and GET /alerts name a destination: never a secret (a webhook URL may be one). */
  label?(settings: S): string
  /** Once per process, before any `create`: a client, a transport. A throw is a start-up problem. */
  connect?(context: PluginContext): C | Promise<C>
  /** One destination's sender. A throw is a start-up problem named with the rule. */
  create(settings: S, context: PluginContext & { readonly connection: C }): Notifier<F>
  disconnect?(connection: C): unknown
}

/** The fields every rule has; a service adds its own (its `rule` schema). */
export interface RuleBase {
  readonly id: string
  readonly service: string
}

export interface FetchInput<R, C> {
  readonly rule: R & RuleBase
  readonly connection: C
  /** What the last poll of this rule left (e.g. the last lastModified seen); undefined on its first poll. */
  readonly checkpoint: string | undefined
  readonly now: number
  readonly signal: AbortSignal
}

export interface FetchResult {
  readonly alerts: readonly FoundAlert[]
  /** Kept once this poll's alerts are in the outbox: a crash before re-reads them (dedup drops the repeats). */
  readonly checkpoint?: string
  /** More matched than one poll reads: the next poll goes on from the checkpoint. */
  readonly truncated?: boolean
}

/** The app's events a service may hear instead of polling. */
export type ServiceEvent = 'verdict' | 'feed'

export interface ServiceDefinition<R = any, C = any, E = any> {
  /** The rule's own fields (a TypeBox object), beside id, service, destinations, enabled, repeatInterval, formatters */
  readonly rule?: TObject
  /** The notification type of its alerts; default: its kind. */
  readonly type?: NotificationType
  /** Event-driven: it hears this event (and `select`s from it) rather than polling. */
  readonly hears?: ServiceEvent
  /** More start-up checks of one rule (a saved query that does not exist): each string is one problem. */
  check?(rule: R & RuleBase, context: PluginContext): readonly string[]
  connect?(context: PluginContext): C | Promise<C>
  /** Polling: the alerts found since the checkpoint. Run on ALERTS_SCHEDULE and by `npm run alerts`. */
  fetch?(input: FetchInput<R, C>): Promise<FetchResult>
  /** Event-driven: the alerts one event raises for one rule; pure. */
  select?(rule: R & RuleBase, event: E): readonly FoundAlert[]
  /** Last word on what it found (drop, trim, normalise) before the outbox; pure. */
  sanitize?(alerts: readonly FoundAlert[], rule: R & RuleBase): readonly FoundAlert[]
  disconnect?(connection: C): unknown
}

/** A plugin: each key is a kind a rule may name (`"service": "<kind>"`, `"destinations": {"<kind>": ...}`). */
export interface AlertPlugin {
  readonly services: Readonly<Record<string, ServiceDefinition>>
  readonly formatters: Readonly<Record<string, FormatterDefinition>>
  readonly notifiers: Readonly<Record<string, NotifierDefinition>>
}

const PLUGIN_MARK = 'tc-enrich/alerts-plugin@1'

/** A plugin module's default export. */
export const definePlugin = (parts: Partial<AlertPlugin>): AlertPlugin =>
  Object.freeze({
    services: Object.freeze({ ...parts.services }),
    formatters: Object.freeze({ ...parts.formatters }),
    notifiers: Object.freeze({ ...parts.notifiers }),
    // Marked, not classed: a plugin built against another copy of the library is still recognised.
    [Symbol.for(PLUGIN_MARK)]: true,
  })

export const isPlugin = (value: unknown): value is AlertPlugin =>
  typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[Symbol.for(PLUGIN_MARK)] === true

/** Identity helpers: they only give a part its type, so an editor checks it. */
export const defineService = <R = any, C = any, E = any>(s: ServiceDefinition<R, C, E>): ServiceDefinition<R, C, E> => s
export const defineFormatter = <F>(f: FormatterDefinition<F>): FormatterDefinition<F> => f
export const defineNotifier = <S = any, F = any, C = any>(
  n: NotifierDefinition<S, F, C>,
): NotifierDefinition<S, F, C> => n

/**
 * A failed delivery, said plainly: `retry: false` for a failure a retry cannot mend (a channel that does not exist,
 * an address refused for good); `retryAfterMs` when the third party said when; `scope: 'group'` when the limit holds
 * for every notifier of the pacing group (Slack's workspace-wide 429).
 */
export class DeliveryError extends Error {
  readonly retry: boolean
  readonly retryAfterMs: number | undefined
  readonly scope: 'destination' | 'group'
  constructor(
    message: string,
    options: {
      readonly retry?: boolean
      readonly retryAfterMs?: number
      readonly scope?: 'destination' | 'group'
      readonly cause?: unknown
    } = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined)
    this.name = 'DeliveryError'
    this.retry = options.retry ?? true
    this.retryAfterMs = options.retryAfterMs
    this.scope = options.scope ?? 'destination'
  }
}
