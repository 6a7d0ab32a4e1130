/**
 * The alert service's settings (npm run alerts; npm start with ALERTS_CONFIG): the rules file, the schedule, grouping,
 * where the outbox is kept, and each notifier's credentials (secrets: never logged, never in a reply or a metric).
 */
import { Type } from 'typebox'
import { ConfigError, readSettings, setting, type Setting, type SettingValue } from './env.js'
import { UNIT_MS } from './rate-limit.js'

/** "30s", "2m", "1h", "0", or a number of seconds, decoded into ms. */
const duration = (maxMs: number) =>
  Type.Codec(Type.String({ minLength: 1 }))
    .Decode((raw): number => {
      const m = /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/.exec(raw)
      if (!m) throw new Error(`'${raw.slice(0, 40)}' is not a duration like 30s, 2m or 1h`)
      const ms = Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS]
      if (ms > maxMs) throw new Error(`'${raw.slice(0, 40)}' is longer than ${maxMs / 60_000} min`)
      return ms
    })
    .Encode((ms) => `${ms}ms`)

const httpUrl = Type.String({ pattern: '^https?://[^\\s]+$' })

const ALERT_SETTINGS = {
  configPath: setting(Type.String({ minLength: 1 }), {
    env: 'ALERTS_CONFIG',
    description:
      'Path to the alert rules, a JSON file `{"rules": [...]}` (docs/user-guide.md, "Alerts"). When set, `npm start` also delivers alerts: the `verdict` rules see every /run, the polling services run on ALERTS_SCHEDULE.',
    default: undefined,
  }),
  schedule: setting(Type.String({ minLength: 9 }), {
    env: 'ALERTS_SCHEDULE',
    description:
      'A cron expression (e.g. `*/5 * * * *`) on which `npm start` runs the polling services (watchlist). Unset: they run only with `npm run alerts`.',
    default: undefined,
  }),
  groupWaitMs: setting(duration(3_600_000), {
    env: 'ALERTS_GROUP_WAIT',
    description:
      'Alerts for one destination within this long of the first go out as one message (as Alertmanager groups); `0` sends each at once.',
    default: '30s',
  }),
  maxAgeMs: setting(duration(30 * 86_400_000), {
    env: 'ALERTS_MAX_AGE',
    description:
      'A message still failing this long after its alert was raised is given up (dead); until then transient failures are retried with backoff (30 s doubling to 1 h).',
    default: '24h',
  }),
  outboxPath: setting(Type.String({ minLength: 1 }), {
    env: 'ALERTS_OUTBOX_PATH',
    description:
      'The outbox file, a journal of JSON lines (pending, sent, failed and dead messages, and the watchlist checkpoints); in Redis instead when REDIS_URL is set.',
    default: 'var/alerts/outbox.jsonl',
  }),
  slackBotToken: setting(Type.String({ pattern: '^xox[a-z]-\\S+$' }), {
    env: 'SLACK_BOT_TOKEN',
    description:
      'Slack bot token (`xoxb-…`) for `slackChannels` and `slackUsers`: scopes `chat:write`, and for users `users:read.email` and `im:write`.',
    default: undefined,
    secret: true,
  }),
  slackApiUrl: setting(httpUrl, {
    env: 'SLACK_API_URL',
    description: 'Base URL of the Slack Web API.',
    default: 'https://slack.com/api',
  }),
  slackWebhookUrl: setting(httpUrl, {
    env: 'SLACK_WEBHOOK_URL',
    description:
      'A Slack incoming webhook URL, for rules with `"slackWebhook": true` (the URL is the credential and fixes the channel).',
    default: undefined,
    secret: true,
  }),
  smtpUrl: setting(Type.String({ pattern: '^smtps?://[^\\s]+$' }), {
    env: 'SMTP_URL',
    description:
      'SMTP server for e-mail, like `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465` (TLS).',
    default: undefined,
    secret: true,
  }),
  emailFrom: setting(Type.String({ pattern: '^[^\\r\\n]+@[^\\r\\n]+$' }), {
    env: 'ALERT_EMAIL_FROM',
    description: 'The From address of alert e-mails, e.g. `TC alerts <alerts@example.com>`.',
    default: undefined,
  }),
  webhookSecret: setting(Type.String({ minLength: 16 }), {
    env: 'WEBHOOK_SECRET',
    description: 'When set, webhook bodies are signed: `X-Signature: sha256=<hex HMAC-SHA256 of the body>`.',
    default: undefined,
    secret: true,
  }),
} as const

export type AlertSettings = { readonly [K in keyof typeof ALERT_SETTINGS]: SettingValue<(typeof ALERT_SETTINGS)[K]> }

export const loadAlertSettings = (env: Readonly<Record<string, string | undefined>>): AlertSettings => {
  const { values, problems } = readSettings(ALERT_SETTINGS, env)
  if (
    (values['smtpUrl'] === undefined) !== (values['emailFrom'] === undefined) &&
    !problems.some((p) => /SMTP_URL|ALERT_EMAIL_FROM/.test(p))
  ) {
    problems.push('SMTP_URL and ALERT_EMAIL_FROM: set both or neither')
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return values as AlertSettings
}

export const alertSettingRows = () =>
  Object.values<Setting>(ALERT_SETTINGS).map((s) => ({
    env: s.env,
    description: s.description,
    default: s.default,
    secret: s.secret,
    param: undefined,
  }))
