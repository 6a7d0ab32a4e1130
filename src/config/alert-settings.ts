/**
 * The alert service's settings (npm run alerts; npm start with ALERTS_CONFIG): the rules file, the schedule, grouping,
 * where the outbox is kept, and each notifier's credentials (secrets: never logged, never in a reply or a metric).
 */
import { Type } from 'typebox'
import { ConfigError, oneOf, readSettings, setting, type Setting, type SettingValue } from './env.js'
import { checkEmail } from '../indicators/email.js'
import { parseDuration } from './duration.js'
import { formatRateLimit, parseRateLimit } from './rate-limit.js'

/** "30s", "2m", "1h", "0", or a number of seconds, decoded into ms. */
const duration = (maxMs: number) =>
  Type.Codec(Type.String({ minLength: 1 }))
    .Decode((raw): number => parseDuration(raw, maxMs))
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
  retentionMs: setting(duration(366 * 86_400_000), {
    env: 'ALERTS_RETENTION',
    description:
      'How long a sent, dead or silenced entry is kept (its dedup key with it: an alert raised again within this long is not sent again). Older ones are deleted, so the outbox does not grow with its history.',
    default: '30d',
  }),
  outboxPath: setting(Type.String({ minLength: 1 }), {
    env: 'ALERTS_OUTBOX_PATH',
    description:
      'The outbox, an SQLite database (mode 0600): pending, sent, failed, dead and silenced messages, silences and the watchlist checkpoints. In Redis instead when REDIS_URL is set. An outbox journal of an earlier version found there is imported once.',
    default: 'var/alerts/outbox.db',
  }),
  token: setting(Type.String({ minLength: 16 }), {
    env: 'ALERTS_TOKEN',
    description:
      "The token every /alerts route requires (`Authorization: Bearer <ALERTS_TOKEN>`), on loopback too; not the playbook's RUN_TOKEN. Unset: the /alerts routes answer 403.",
    default: undefined,
    secret: true,
  }),
  emailApi: setting(oneOf(['on', 'off'] as const), {
    env: 'ALERTS_EMAIL_API',
    description:
      '`on` opens POST /alerts/email (free-form e-mail) to the recipients in ALERT_EMAIL_ALLOW; `off` (default) answers 404.',
    default: 'off',
  }),
  emailAllow: setting(Type.String({ minLength: 1 }), {
    env: 'ALERT_EMAIL_ALLOW',
    description:
      'Who POST /alerts/email may write to: addresses and `@domain`s, comma-separated (e.g. `soc@example.com, @partner.example`). Required with ALERTS_EMAIL_API=on.',
    default: undefined,
  }),
  apiRateLimit: setting(Type.Codec(Type.String()).Decode(parseRateLimit).Encode(formatRateLimit), {
    env: 'ALERTS_API_RATE_LIMIT',
    description:
      'Most POST /alerts/email and /alerts/test calls together per window, every caller and replica together, e.g. `10/1m`; over it: 429 with Retry-After.',
    default: '10/1m',
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
      'SMTP server for e-mail, like `smtp://user:pass@host:587` (with a user, STARTTLS is required: the password never goes in clear) or `smtps://…:465` (TLS).',
    default: undefined,
    secret: true,
  }),
  emailFrom: setting(Type.String({ pattern: '^[^\\r\\n]+@[^\\r\\n]+$' }), {
    env: 'ALERT_EMAIL_FROM',
    description: 'The From address of alert e-mails, e.g. `TC alerts <alerts@example.com>`.',
    default: undefined,
  }),
  smtpAllowPlaintext: setting(oneOf(['on', 'off'] as const), {
    env: 'SMTP_ALLOW_PLAINTEXT',
    description:
      '`on` lets an `smtp://` URL with a user log in without TLS (a relay on loopback); `off` (default) requires STARTTLS whenever SMTP_URL has a user.',
    default: 'off',
  }),
  webhookSecret: setting(Type.String({ minLength: 16 }), {
    env: 'WEBHOOK_SECRET',
    description:
      'When set, webhook deliveries are signed as Standard Webhooks signs: `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`. A `whsec_<base64>` secret is decoded first.',
    default: undefined,
    secret: true,
  }),
} as const

export type AlertSettings = { readonly [K in keyof typeof ALERT_SETTINGS]: SettingValue<(typeof ALERT_SETTINGS)[K]> }

/** ALERT_EMAIL_ALLOW read: addresses and `@domain`s (lower-cased), or the problems with it. */
export const parseEmailAllow = (
  text: string,
): { addresses: ReadonlySet<string>; domains: ReadonlySet<string>; problems: string[] } => {
  const addresses = new Set<string>()
  const domains = new Set<string>()
  const problems: string[] = []
  for (const raw of text.split(',')) {
    const item = raw.trim().toLowerCase()
    if (item === '') continue
    if (item.startsWith('@') && /^@[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(item)) domains.add(item.slice(1))
    else if (checkEmail(item).ok) addresses.add(item)
    else problems.push(`ALERT_EMAIL_ALLOW: '${item.slice(0, 80)}' is neither an e-mail address nor an @domain`)
  }
  return { addresses, domains, problems }
}

export const loadAlertSettings = (env: Readonly<Record<string, string | undefined>>): AlertSettings => {
  const { values, problems } = readSettings(ALERT_SETTINGS, env)
  if (
    (values['smtpUrl'] === undefined) !== (values['emailFrom'] === undefined) &&
    !problems.some((p) => /SMTP_URL|ALERT_EMAIL_FROM/.test(p))
  ) {
    problems.push('SMTP_URL and ALERT_EMAIL_FROM: set both or neither')
  }
  if (typeof values['emailAllow'] === 'string') problems.push(...parseEmailAllow(values['emailAllow']).problems)
  if (values['emailApi'] === 'on' && values['emailAllow'] === undefined)
    problems.push('ALERT_EMAIL_ALLOW: required with ALERTS_EMAIL_API=on (who free-form e-mail may go to)')
  if (values['emailApi'] === 'on' && values['smtpUrl'] === undefined)
    problems.push('ALERTS_EMAIL_API=on needs SMTP_URL and ALERT_EMAIL_FROM')
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
