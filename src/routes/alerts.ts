/**
 * The alert endpoints, behind their own token (ALERTS_TOKEN, required on loopback too; not the playbook's RUN_TOKEN)
 * and a Host check (loopback names or PUBLIC_URL's host: a page that rebinds its own name to this address is refused):
 *   POST   /alerts/email          a free-form e-mail, only with ALERTS_EMAIL_API=on, only to ALERT_EMAIL_ALLOW
 *   POST   /alerts/test           a sample alert to one destination a rule names, paced like any message
 *   GET    /alerts                the outbox (counts, newest entries), the silences in force, warnings
 *   POST   /alerts/silences       mute a rule and/or an indicator until a time
 *   DELETE /alerts/silences/:id   lift a silence
 * The two that send are rate limited together (ALERTS_API_RATE_LIMIT). No request field chooses a host.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { parseEmailAllow } from '../config/alert-settings.js'
import { parseDuration } from '../config/duration.js'
import type { Silence } from '../alerts/silences.js'
import type { OutboxEntry, OutboxState } from '../alerts/types.js'
import type { Worker } from '../alerts/worker.js'
import { AppError } from '../errors.js'
import { checkEmail } from '../indicators/email.js'
import { makeBearerAuth } from '../plugins/app/run-auth.js'
import { makeHostCheck } from '../plugins/app/host-check.js'
import {
  DeliveryReply,
  EmailBody,
  EmailReply,
  OutboxQuery,
  OutboxReply,
  SilenceBody,
  SilenceParams,
  SilenceView,
  TestBody,
} from '../schemas/alerts.js'
import { ErrorReply } from '../schemas/error.js'

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString())

/** What GET /alerts shows of an entry: never a webhook's URL or a token, never a mail's text. */
const view = (worker: Worker, e: OutboxEntry) => ({
  key: e.key,
  state: e.state,
  destination: worker.labelOf(e.destination),
  rule: e.alert?.rule,
  service: e.alert?.service,
  alertId: e.alert?.id,
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
  messageId: e.messageId,
  groupSize: e.groupSize,
  repeats: e.repeats,
  silencedUntil: e.state === 'silenced' ? iso(e.notBefore) : undefined,
})

const silenceView = (s: Silence) => ({
  id: s.id,
  ...(s.rule !== undefined ? { rule: s.rule } : {}),
  ...(s.indicator !== undefined ? { indicator: s.indicator } : {}),
  endsAt: new Date(s.endsAt).toISOString(),
  createdAt: new Date(s.createdAt).toISOString(),
  comment: s.comment,
})

const needAlerts = (worker: Worker | undefined): Worker => {
  if (worker === undefined)
    throw new AppError(
      'ALERTS_OFF',
      'the alert service is off: set ALERTS_CONFIG to a rules file (docs/user-guide.md, "Alerts")',
      '',
    )
  return worker
}

const headerLine = (value: string, field: string): void => {
  if (/[\r\n\0]/.test(value))
    throw new AppError(
      'INVALID_PARAM',
      `${field} holds a line break: refused (it would let a value add e-mail headers)`,
      field,
    )
}

const tooMany = (reply: FastifyReply, waitMs: number, why: string): AppError => {
  void reply.header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))))
  return new AppError('TOO_MANY_REQUESTS', why, '')
}

export default async function alertsRoutes(app: FastifyInstance): Promise<void> {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>()
  const { config, shared } = app.enrichment
  const worker = app.alerts
  const settings = worker?.settings
  const checkHost = makeHostCheck(config.publicUrl)
  const allow = parseEmailAllow(settings?.emailAllow ?? '')
  const bearer = makeBearerAuth({
    token: settings?.token,
    setting: 'ALERTS_TOKEN',
    failureLimit: config.authFailureLimit,
    quota: shared.quota,
  })

  /** Host, then the token: every /alerts route. */
  const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    checkHost(request)
    if (worker !== undefined && settings?.token === undefined)
      throw new AppError('ALERTS_LOCKED', 'the /alerts routes are locked: set ALERTS_TOKEN (not the RUN_TOKEN)', '')
    for (const check of bearer) await check.call(app, request, reply)
  }
  const onRequest = [guard]
  const security = { security: [{ bearer: [] }] }

  /** The sending routes share one limit (every caller, every replica). */
  const limit = async (reply: FastifyReply): Promise<void> => {
    if (settings === undefined) return
    const answer = await shared.quota.take('alerts:api', [settings.apiRateLimit], 0)
    if (!answer.granted)
      throw tooMany(reply, answer.waitMs, 'too many POST /alerts/email and /alerts/test calls (ALERTS_API_RATE_LIMIT)')
  }

  typed.post(
    '/alerts/email',
    {
      onRequest,
      schema: {
        summary: 'Send a free-form e-mail (through the outbox)',
        description:
          'Only with ALERTS_EMAIL_API=on, only to ALERT_EMAIL_ALLOW. Each recipient gets its own message, kept in the outbox until delivered: 200 all sent, 202 some still on their way (retried), 502 refused for good. An Idempotency-Key header makes a repeat of the same call send nothing twice; the same key with another body is 409.',
        body: EmailBody,
        response: { 200: EmailReply, 202: EmailReply, 502: EmailReply, '4xx': ErrorReply, '5xx': ErrorReply },
        ...security,
      },
    },
    async (request, reply) => {
      const service = needAlerts(worker)
      if (!service.canEmail)
        throw new AppError(
          'ALERTS_OFF',
          'free-form e-mail is off: ALERTS_EMAIL_API=on opens it (with ALERT_EMAIL_ALLOW)',
          '',
        )
      const body = request.body
      const list = Array.isArray(body.to) ? body.to : [body.to]
      const to = list.map((a, i) => {
        const field = Array.isArray(body.to) ? `to[${i}]` : 'to'
        headerLine(a, field)
        const checked = checkEmail(a.trim())
        if (!checked.ok) throw new AppError('INVALID_PARAM', `not an e-mail address: ${checked.why}`, field)
        const address = checked.value.toLowerCase()
        const domain = address.slice(address.lastIndexOf('@') + 1)
        if (!allow.addresses.has(address) && !allow.domains.has(domain))
          throw new AppError('INVALID_PARAM', 'not a recipient ALERT_EMAIL_ALLOW lets free-form e-mail go to', field)
        return address
      })
      headerLine(body.subject, 'subject')
      await limit(reply)
      const idempotency = request.headers['idempotency-key']
      const key =
        typeof idempotency === 'string' && idempotency.trim() !== '' ? idempotency.trim().slice(0, 200) : undefined
      let entries: OutboxEntry[]
      try {
        entries = await service.sendEmail(
          {
            to: [...new Set(to)],
            subject: body.subject,
            text: body.text,
            ...(body.html !== undefined ? { html: body.html } : {}),
          },
          key,
        )
      } catch (err) {
        if (err instanceof service.IdempotencyConflict)
          throw new AppError(
            'IDEMPOTENCY_CONFLICT',
            'this Idempotency-Key was used for another e-mail',
            'idempotency-key',
          )
        throw err
      }
      const recipients = entries.map((e) => ({
        to: e.email?.to ?? e.destination.target,
        id: e.key,
        state: e.state,
        detail:
          e.state === 'sent' ? `sent (${e.receipt ?? ''})` : (e.lastError ?? `${e.state}: it will be tried again`),
      }))
      const states = new Set(entries.map((e) => e.state))
      const state =
        states.size === 1 && states.has('sent')
          ? 'sent'
          : states.size === 1 && states.has('dead')
            ? 'dead'
            : states.has('sent') || states.has('dead')
              ? 'partial'
              : 'pending'
      const status = state === 'sent' ? 200 : state === 'dead' ? 502 : 202
      const counts = [...states].map((s) => `${entries.filter((e) => e.state === s).length} ${s}`).join(', ')
      return reply.code(status).send({ state, detail: `${entries.length} recipient(s): ${counts}`, recipients })
    },
  )

  typed.post(
    '/alerts/test',
    {
      onRequest,
      schema: {
        summary: 'Send a sample alert to one destination a rule names',
        description:
          'Formatted and paced as a real alert, not through the outbox; answers what the third party said: 200 when it accepted, 502 with its error when not, 429 while the notifier is paced.',
        body: TestBody,
        response: { 200: DeliveryReply, 502: DeliveryReply, '4xx': ErrorReply, '5xx': ErrorReply },
        ...security,
      },
    },
    async (request, reply) => {
      const service = needAlerts(worker)
      const [kind, settingsOf] = Object.entries(request.body)[0] as [string, unknown]
      const destination = service.ruleDestination(kind, settingsOf)
      // The same words for every miss: a test cannot be used to learn which accounts exist.
      if (destination === undefined)
        throw new AppError('INVALID_PARAM', 'not a destination any rule in ALERTS_CONFIG names', kind)
      await limit(reply)
      const outcome = await service.sendTest(destination)
      if (outcome.outcome === 'waiting')
        throw tooMany(reply, outcome.waitMs, 'the notifier is paced; try again after Retry-After')
      const detail = outcome.outcome === 'sent' ? outcome.detail : outcome.reason
      return reply
        .code(outcome.outcome === 'sent' ? 200 : 502)
        .send({ destination: service.labelOf(destination), outcome: outcome.outcome, detail })
    },
  )

  typed.get(
    '/alerts',
    {
      onRequest,
      schema: {
        summary: 'The alert outbox and the silences',
        description:
          'How many messages are pending, sending, sent, failed (retried later), dead (given up) and silenced; the newest entries; the silences in force.',
        querystring: OutboxQuery,
        response: { 200: OutboxReply, '4xx': ErrorReply, '5xx': ErrorReply },
        ...security,
      },
    },
    async (request) => {
      const service = needAlerts(worker)
      const listing = await service.outbox.list({
        ...(request.query.state !== undefined ? { state: request.query.state as OutboxState } : {}),
        limit: Number(request.query.limit ?? 100),
      })
      return {
        counts: listing.counts,
        entries: listing.entries.map((e) => view(service, e)),
        silences: (await service.silences()).map(silenceView),
        warnings: service.durability !== undefined && !service.durability.durable ? [service.durability.detail] : [],
      }
    },
  )

  typed.post(
    '/alerts/silences',
    {
      onRequest,
      schema: {
        summary: 'Silence alerts of a rule and/or an indicator until a time',
        description:
          'While it holds, matching alerts are recorded as silenced, not sent; an alert raised again after it ends is sent. Name endsAt or duration (at most 90 days).',
        body: SilenceBody,
        response: { 201: SilenceView, '4xx': ErrorReply, '5xx': ErrorReply },
        ...security,
      },
    },
    async (request, reply) => {
      const service = needAlerts(worker)
      const b = request.body
      if (b.rule === undefined && b.indicator === undefined)
        throw new AppError('MISSING_PARAM', 'name a rule, an indicator, or both', 'rule')
      if ((b.endsAt === undefined) === (b.duration === undefined))
        throw new AppError(
          'INVALID_PARAM',
          'name one of endsAt and duration',
          b.endsAt === undefined ? 'duration' : 'endsAt',
        )
      if (b.rule !== undefined && service.ruleOf(b.rule) === undefined)
        throw new AppError('INVALID_PARAM', `no rule '${b.rule}' in ALERTS_CONFIG`, 'rule')
      const endsAt =
        b.endsAt !== undefined ? Date.parse(b.endsAt) : Date.now() + parseDuration(b.duration ?? '0', 366 * 86_400_000)
      if (Number.isNaN(endsAt)) throw new AppError('INVALID_PARAM', 'not an ISO 8601 time', 'endsAt')
      let created: Silence
      try {
        created = await service.silence({
          ...(b.rule !== undefined ? { rule: b.rule } : {}),
          ...(b.indicator !== undefined ? { indicator: b.indicator } : {}),
          endsAt,
          comment: b.comment,
        })
      } catch (err) {
        throw new AppError('INVALID_PARAM', (err as Error).message, b.endsAt !== undefined ? 'endsAt' : 'duration')
      }
      return reply.code(201).send(silenceView(created))
    },
  )

  typed.delete(
    '/alerts/silences/:id',
    {
      onRequest,
      schema: {
        summary: 'Lift a silence',
        params: SilenceParams,
        response: { 204: Type204, '4xx': ErrorReply, '5xx': ErrorReply },
        ...security,
      },
    },
    async (request, reply) => {
      const service = needAlerts(worker)
      if (!(await service.unsilence(request.params.id)))
        throw new AppError('NOT_FOUND', `no silence ${request.params.id}`, 'id')
      return reply.code(204).send(null)
    },
  )
}

/** An empty answer. */
const Type204 = { type: 'null', description: 'Lifted.' } as const
