/** The alert endpoints' request and reply schemas (POST /alerts/email, /alerts/test, /alerts/silences, GET /alerts). */
import { Type, type Static } from 'typebox'
import { OUTBOX_STATES } from '../alerts/types.js'

const Address = Type.String({ minLength: 3, maxLength: 254 })

/** At most this many recipients in one free-form e-mail call; each is its own message. */
const MAX_EMAIL_RECIPIENTS = 20

export const EmailBody = Type.Object(
  {
    to: Type.Union([Address, Type.Array(Address, { minItems: 1, maxItems: MAX_EMAIL_RECIPIENTS })], {
      description: `One address or a list (at most ${MAX_EMAIL_RECIPIENTS}), each in ALERT_EMAIL_ALLOW; each gets its own message (nobody sees the others).`,
    }),
    subject: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'One line: a CR or LF is refused (header injection).',
    }),
    text: Type.String({ minLength: 1, maxLength: 100_000 }),
    html: Type.Optional(
      Type.String({ maxLength: 500_000, description: 'An HTML alternative; the text part is sent first.' }),
    ),
  },
  { additionalProperties: false },
)
export type EmailBody = Static<typeof EmailBody>

export const TestBody = Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' }), Type.Unknown(), {
  minProperties: 1,
  maxProperties: 1,
  description:
    'Exactly one destination, as a rule writes it: `{"<notifier kind>": <settings>}`, e.g. `{"slackChannels": "#soc"}`. It must be a destination a rule in ALERTS_CONFIG names.',
})
export type TestBody = Static<typeof TestBody>

export const DeliveryReply = Type.Object({
  destination: Type.String(),
  outcome: Type.Enum(['sent', 'retry', 'dead']),
  detail: Type.String({ description: 'What the third party said (an error code, an SMTP reply, a receipt).' }),
})

const RecipientReply = Type.Object({
  to: Type.String(),
  id: Type.String({ description: 'The outbox key; GET /alerts shows it.' }),
  state: Type.Enum([...OUTBOX_STATES]),
  detail: Type.String(),
})

export const EmailReply = Type.Object({
  state: Type.Enum(['sent', 'pending', 'dead', 'partial']),
  detail: Type.String(),
  recipients: Type.Array(RecipientReply),
})

const EntryView = Type.Object({
  key: Type.String(),
  state: Type.Enum([...OUTBOX_STATES]),
  destination: Type.String(),
  rule: Type.Optional(Type.String()),
  service: Type.Optional(Type.String()),
  alertId: Type.Optional(Type.String()),
  indicator: Type.Optional(Type.Object({ type: Type.String(), value: Type.String() })),
  verdict: Type.Optional(Type.String()),
  rating: Type.Optional(Type.Number()),
  subject: Type.Optional(Type.String()),
  createdAt: Type.String(),
  attempts: Type.Number(),
  nextAttemptAt: Type.Optional(Type.String()),
  lastError: Type.Optional(Type.String()),
  sentAt: Type.Optional(Type.String()),
  receipt: Type.Optional(Type.String()),
  messageId: Type.Optional(Type.String()),
  groupSize: Type.Optional(Type.Number()),
  repeats: Type.Optional(Type.Number()),
  silencedUntil: Type.Optional(Type.String()),
})

export const SilenceView = Type.Object({
  id: Type.String(),
  rule: Type.Optional(Type.String()),
  indicator: Type.Optional(Type.String()),
  endsAt: Type.String(),
  createdAt: Type.String(),
  comment: Type.String(),
})

export const OutboxReply = Type.Object({
  counts: Type.Object(
    Object.fromEntries(OUTBOX_STATES.map((s) => [s, Type.Number()])) as Record<
      (typeof OUTBOX_STATES)[number],
      ReturnType<typeof Type.Number>
    >,
  ),
  entries: Type.Array(EntryView),
  silences: Type.Array(SilenceView, { description: 'The silences in force.' }),
  warnings: Type.Array(Type.String(), { description: 'What threatens delivery (Redis without persistence).' }),
})

export const OutboxQuery = Type.Object(
  {
    state: Type.Optional(Type.Enum([...OUTBOX_STATES])),
    // A query string is text (no type coercion in this service): digits, 1 to 1000.
    limit: Type.Optional(
      Type.String({
        pattern: '^(1000|[1-9][0-9]{0,2})$',
        description: 'Most entries listed, newest first (1-1000; default 100).',
      }),
    ),
  },
  { additionalProperties: false },
)

export const SilenceBody = Type.Object(
  {
    rule: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'A rule id.' })),
    indicator: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description: 'An indicator value (case-insensitive); `*.example.com` also matches its subdomains.',
      }),
    ),
    endsAt: Type.Optional(
      Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T', description: 'When it ends (ISO 8601), or' }),
    ),
    duration: Type.Optional(Type.String({ pattern: '^\\d+(m|h|d)$', description: 'for how long: 30m, 4h, 7d.' })),
    comment: Type.String({ minLength: 1, maxLength: 500, description: 'Why, and who: shown in GET /alerts.' }),
  },
  { additionalProperties: false },
)
export type SilenceBody = Static<typeof SilenceBody>

export const SilenceParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) })
