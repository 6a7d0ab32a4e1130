/**
 * `tc-enrich/alerts`: the alert library's public entry (package.json "exports"). A plugin imports from here only:
 *
 *   import { definePlugin, defineNotifier, DeliveryError, Type } from 'tc-enrich/alerts'
 *   export default definePlugin({ notifiers: { teams: defineNotifier({ ... }) } })
 *
 * and ALERTS_CONFIG names it: `"plugins": ["./alerts/teams.mjs"]`. docs/alerts.md, "Write your own service,
 * formatter, notifier", walks through each role; examples/ holds two plugins the tests load.
 */
export {
  DeliveryError,
  NOTIFICATION_TYPES,
  defineFormatter,
  defineNotifier,
  definePlugin,
  defineService,
  type Alert,
  type AlertPlugin,
  type Delivered,
  type FetchInput,
  type FetchResult,
  type FormatInput,
  type FormatterDefinition,
  type FoundAlert,
  type FreeFormEmail,
  type Message,
  type NotificationType,
  type Notifier,
  type NotifierDefinition,
  type Pacing,
  type PluginContext,
  type RuleBase,
  type ServiceDefinition,
  type ServiceEvent,
  type ThreatConnectAccess,
} from './api.js'
export { defang, defangAlert } from './defang.js'
export { cut, severityOf, titleOf } from './formatters/alert-text.js'
export type { EmailMessage } from './formatters/email.js'
export type { SlackMessage } from './formatters/slack.js'
export type { TextMessage } from './formatters/text.js'
export type { WebhookBody } from './formatters/webhook.js'
export type { FeedEvent } from './services/feed.js'
export type { VerdictEvent } from './services/verdict.js'
export type { HttpClient, HttpRequest, HttpResponse } from '../http/types.js'
/** TypeBox, for a part's settings and rule schemas: the same copy the library checks them with. */
export { Type, type Static } from 'typebox'
