/**
 * Opens the alert service from its checked settings and rules (src/alerts/config.ts) on the process's context: the
 * outbox (Redis when the context has a shared store, else the file), the notifiers that have credentials, and the
 * platform client the watchlist polls through. Used by `npm start` (the alerts plugin), `npm run alerts` and
 * `npm run feed`; loaded only when ALERTS_CONFIG is set, so a service without alerts does not pay for nodemailer
 * and the notifiers at start-up.
 */
import { isAbsolute, resolve } from 'node:path'
import type { AlertSettings } from '../config/alert-settings.js'
import { platformProfilesFromEnv } from '../config/platform.js'
import type { ProcessContext } from '../context/process-context.js'
import type { HttpClientFactory } from '../http/types.js'
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
  readonly context: ProcessContext
  readonly product: string
  readonly now?: () => number
  readonly leaseMs?: number
}

const notifiersOf = (settings: AlertSettings, http: HttpClientFactory): AlertNotifiers => ({
  ...(settings.slackBotToken !== undefined
    ? { slack: createSlackApiNotifier({ token: settings.slackBotToken, apiUrl: settings.slackApiUrl }, http) }
    : {}),
  ...(settings.slackWebhookUrl !== undefined
    ? { slackWebhook: createSlackWebhookNotifier(settings.slackWebhookUrl, http) }
    : {}),
  ...(settings.smtpUrl !== undefined && settings.emailFrom !== undefined
    ? { email: createEmailNotifier({ smtpUrl: settings.smtpUrl, from: settings.emailFrom }) }
    : {}),
  webhook: createWebhookNotifier(settings.webhookSecret, http),
})

export const openAlertService = (o: OpenAlertServiceOptions): AlertService => {
  const { settings, rules } = o.config
  const { shared, http, metrics, log } = o.context
  const entries =
    shared.store !== undefined
      ? openRedisEntryStore(shared.store)
      : openFileEntryStore(isAbsolute(settings.outboxPath) ? settings.outboxPath : resolve(o.root, settings.outboxPath))
  const { profiles } = platformProfilesFromEnv(o.env)
  const platform = profiles.default
  return createAlertService({
    settings,
    rules,
    outbox: createOutbox(entries),
    notifiers: notifiersOf(settings, http),
    ...(platform.configured
      ? { platform: { client: o.context.platform.clientFor(platform), owner: platform.owner } }
      : {}),
    quota: shared.quota,
    metrics,
    log,
    product: o.product,
    ...(o.now !== undefined ? { now: o.now } : {}),
    ...(o.leaseMs !== undefined ? { leaseMs: o.leaseMs } : {}),
  })
}
