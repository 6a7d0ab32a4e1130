/**
 * Opens the alert service from its checked settings and rules (src/alerts/config.ts): the outbox (Redis when a shared
 * store is given, else the file), the notifiers that have credentials, and the platform client the watchlist polls
 * through. Used by `npm start` (src/app.ts), `npm run alerts` and `npm run feed`; loaded only when ALERTS_CONFIG is
 * set, so a service without alerts does not pay for nodemailer and the notifiers at start-up.
 */
import { isAbsolute, resolve } from 'node:path'
import type { Logger } from 'pino'
import type { AlertSettings } from '../config/alert-settings.js'
import { platformProfilesFromEnv } from '../config/platform.js'
import type { HttpClientFactory } from '../http/types.js'
import type { Metrics } from '../metrics.js'
import { createPlatformClientPool, type PlatformClientPool } from '../platform/client.js'
import type { Quota } from '../state/quota.js'
import type { SharedStore } from '../state/store.js'
import { createAlertService, type AlertNotifiers, type AlertService } from './alert-service.js'
import { createEmailNotifier } from './notifiers/email.js'
import { createSlackApiNotifier } from './notifiers/slack-api.js'
import { createSlackWebhookNotifier } from './notifiers/slack-webhook.js'
import { createWebhookNotifier } from './notifiers/webhook.js'
import { createOutbox } from './outbox.js'
import { openFileEntryStore } from './outbox-file.js'
import { openRedisEntryStore } from './outbox-redis.js'
import type { AlertConfig } from './config.js'

export interface OpenAlertServiceOptions {
  readonly config: AlertConfig
  readonly env: Readonly<Record<string, string | undefined>>
  readonly root: string
  readonly http: HttpClientFactory
  readonly store: SharedStore | undefined
  readonly quota: Quota
  readonly metrics: Metrics
  readonly log: Logger
  readonly product: string
  readonly now?: () => number
  readonly leaseMs?: number
  /** The app's ThreatConnect clients (one breaker and limiter per instance, shared with write-back); else its own. */
  readonly platformPool?: PlatformClientPool
}

export const notifiersOf = (settings: AlertSettings, http: HttpClientFactory): AlertNotifiers => ({
  ...(settings.slackBotToken !== undefined ? { slack: createSlackApiNotifier({ token: settings.slackBotToken, apiUrl: settings.slackApiUrl }, http) } : {}),
  ...(settings.slackWebhookUrl !== undefined ? { slackWebhook: createSlackWebhookNotifier(settings.slackWebhookUrl, http) } : {}),
  ...(settings.smtpUrl !== undefined && settings.emailFrom !== undefined ? { email: createEmailNotifier({ smtpUrl: settings.smtpUrl, from: settings.emailFrom }) } : {}),
  webhook: createWebhookNotifier(settings.webhookSecret, http),
})

export const openAlertService = (o: OpenAlertServiceOptions): AlertService => {
  const { settings, rules } = o.config
  const entries = o.store !== undefined ? openRedisEntryStore(o.store) : openFileEntryStore(isAbsolute(settings.outboxPath) ? settings.outboxPath : resolve(o.root, settings.outboxPath))
  const { profiles } = platformProfilesFromEnv(o.env)
  const platform = profiles.default
  return createAlertService({
    settings,
    rules,
    outbox: createOutbox(entries),
    notifiers: notifiersOf(settings, o.http),
    ...(platform.configured
      ? {
          platform: { client: (o.platformPool ?? createPlatformClientPool(o.http)).clientFor(platform), owner: platform.owner },
        }
      : {}),
    quota: o.quota,
    metrics: o.metrics,
    log: o.log,
    product: o.product,
    ...(o.now !== undefined ? { now: o.now } : {}),
    ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
  })
}
