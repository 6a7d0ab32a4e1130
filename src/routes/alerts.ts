/**
 * The alert endpoints, behind the same auth as /run: POST /alerts/email (a free-form e-mail through the outbox),
 * POST /alerts/test (a sample alert straight to one destination, answering what the third party said), GET /alerts
 * (the outbox: pending, sent, failed, dead). No request field chooses a host: a test webhook must be one a rule names.
 */
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { destinationLabel } from '../alerts/destinations.js'
import { ruleDestinations } from '../alerts/rules.js'
import type { AlertService } from '../alerts/alert-service.js'
import type { Destination, OutboxEntry, OutboxState } from '../alerts/types.js'
import { AppError } from '../errors.js'
import { checkEmail } from '../indicators/email.js'
import { makeBearerAuth } from '../plugins/app/run-auth.js'
import { DeliveryReply, EmailBody, EmailReply, OutboxQuery, OutboxReply, TestBody } from '../schemas/alerts.js'
import { ErrorReply } from '../schemas/error.js'

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString())

/** What GET /alerts shows of an entry: never a webhook's URL or a token. */
const view = (e: OutboxEntry) => {
  const fields = {
    key: e.key,
    state: e.state,
    destination: destinationLabel(e.destination),
    rule: e.alert?.ruleId,
    service: e.alert?.service,
    indicator: e.alert?.indicator,
    verdict: e.alert?.verdict,
    rating: e.alert?.rating,
    subject: e.email?.subject,
    createdAt: new Date(e.createdAt).toISOString(),
    attempts: e.attempts,
    nextAttemptAt: e.state === 'pending' || e.state === 'failed' ? iso(e.notBefore) : undefined,
    lastError: e.lastError,
    sentAt: iso(e.sentAt),
    receipt: e.receipt,
    groupSize: e.groupSize,
  }
  // The reply's serialiser leaves out what is undefined.
  return fields
}

const needAlerts = (service: AlertService | undefined): AlertService => {
  if (service === undefined)
    throw new AppError(
      'ALERTS_OFF',
      'the alert service is off: set ALERTS_CONFIG to a rules file (docs/user-guide.md, "Alerts")',
      '',
    )
  return service
}

const headerLine = (value: string, field: string): void => {
  if (/[\r\n\0]/.test(value))
    throw new AppError(
      'INVALID_PARAM',
      `${field} holds a line break: refused (it would let a value add e-mail headers)`,
      field,
    )
}

/** The one destination a test names; a webhook only when a rule has it (a request never picks a host to call). */
const testDestination = (body: TestBody, service: AlertService): Destination => {
  const named = Object.entries(body).filter(([, v]) => v !== undefined)
  if (named.length !== 1)
    throw new AppError(
      'INVALID_PARAM',
      `name exactly one destination: slackChannel, slackUser, email, webhook or slackWebhook (got ${named.length})`,
      '',
    )
  if (body.slackChannel !== undefined) return { kind: 'slackChannel', target: body.slackChannel.trim() }
  if (body.slackWebhook !== undefined) return { kind: 'slackWebhook', target: '' }
  if (body.webhook !== undefined) {
    const known = service.rules
      .flatMap(ruleDestinations)
      .some((d) => d.kind === 'webhook' && d.target === body.webhook?.trim())
    if (!known)
      throw new AppError(
        'INVALID_PARAM',
        'webhook: not a webhook any rule in ALERTS_CONFIG names (a test goes only where alerts may go)',
        'webhook',
      )
    return { kind: 'webhook', target: body.webhook.trim() }
  }
  const [field, address] =
    body.slackUser !== undefined ? (['slackUser', body.slackUser] as const) : (['email', body.email ?? ''] as const)
  const checked = checkEmail(address.trim())
  if (!checked.ok) throw new AppError('INVALID_PARAM', `${field}: not an e-mail address (${checked.why})`, field)
  return { kind: field, target: checked.value }
}

export default async function alertsRoutes(app: FastifyInstance): Promise<void> {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>()
  const { config, shared } = app.enrichment
  const onRequest = makeBearerAuth({
    token: config.runToken,
    setting: 'RUN_TOKEN',
    failureLimit: config.authFailureLimit,
    quota: shared.quota,
  })
  const security = app.enrichment.config.runToken ? { security: [{ bearer: [] }] } : {}

  typed.post(
    '/alerts/email',
    {
      onRequest,
      schema: {
        summary: 'Send a free-form e-mail (through the outbox)',
        description:
          'Kept in the outbox until delivered: 200 sent, 202 accepted and retried later, 502 refused for good. An Idempotency-Key header makes a repeat of the same call send nothing twice.',
        body: EmailBody,
        response: { 200: EmailReply, 202: EmailReply, 502: EmailReply, '4xx': ErrorReply, '5xx': ErrorReply },
        ...security,
      },
    },
    async (request, reply) => {
      const service = needAlerts(app.alerts)
      const body = request.body
      const to = (Array.isArray(body.to) ? body.to : [body.to]).map((a) => a.trim())
      to.forEach((a, i) => {
        const field = Array.isArray(body.to) ? `to[${i}]` : 'to'
        headerLine(a, field)
        const checked = checkEmail(a)
        if (!checked.ok) throw new AppError('INVALID_PARAM', `not an e-mail address: ${checked.why}`, field)
      })
      headerLine(body.subject, 'subject')
      if (!service.canEmail)
        throw new AppError('ALERTS_OFF', 'e-mail is not configured: set SMTP_URL and ALERT_EMAIL_FROM', '')
      const idempotency = request.headers['idempotency-key']
      const key =
        typeof idempotency === 'string' && idempotency.trim() !== '' ? idempotency.trim().slice(0, 200) : undefined
      const entry = await service.sendEmail(
        { to, subject: body.subject, text: body.text, ...(body.html !== undefined ? { html: body.html } : {}) },
        key,
      )
      const status = entry.state === 'sent' ? 200 : entry.state === 'dead' ? 502 : 202
      const detail =
        entry.state === 'sent'
          ? `sent (${entry.receipt ?? ''})`
          : (entry.lastError ?? `${entry.state}: it will be tried again`)
      return reply.code(status).send({ id: entry.key, state: entry.state, detail })
    },
  )

  typed.post(
    '/alerts/test',
    {
      onRequest,
      schema: {
        summary: 'Send a sample alert to one destination',
        description:
          'Straight to the third party (not through the outbox); answers what it said: 200 when it accepted, 502 with its error when not.',
        body: TestBody,
        response: { 200: DeliveryReply, 502: DeliveryReply, '4xx': ErrorReply, '5xx': ErrorReply },
        ...security,
      },
    },
    async (request, reply) => {
      const service = needAlerts(app.alerts)
      const destination = testDestination(request.body, service)
      const outcome = await service.sendTest(destination)
      const detail = outcome.outcome === 'sent' ? outcome.detail : outcome.reason
      return reply
        .code(outcome.outcome === 'sent' ? 200 : 502)
        .send({ destination: destinationLabel(destination), outcome: outcome.outcome, detail })
    },
  )

  typed.get(
    '/alerts',
    {
      onRequest,
      schema: {
        summary: 'The alert outbox',
        description:
          'How many messages are pending, sending, sent, failed (retried later) and dead (given up), and the newest entries.',
        querystring: OutboxQuery,
        response: { 200: OutboxReply, '4xx': ErrorReply, '5xx': ErrorReply },
        ...security,
      },
    },
    async (request) => {
      const service = needAlerts(app.alerts)
      const listing = await service.outbox.list({
        ...(request.query.state !== undefined ? { state: request.query.state as OutboxState } : {}),
        limit: Number(request.query.limit ?? 100),
      })
      return { counts: listing.counts, entries: listing.entries.map(view) }
    },
  )
}
