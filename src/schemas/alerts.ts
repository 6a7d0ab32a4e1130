/** The alert endpoints' request and reply schemas (POST /alerts/email, POST /alerts/test, GET /alerts). */
import { Type, type Static } from 'typebox'
import { OUTBOX_STATES } from '../alerts/types.js'

const Address = Type.String({ minLength: 3, maxLength: 254 })

export const EmailBody = Type.Object(
  {
    to: Type.Union([Address, Type.Array(Address, { minItems: 1, maxItems: 50 })], {
      description: 'One address or a list (at most 50).',
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

export const TestBody = Type.Object(
  {
    slackChannel: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
    slackUser: Type.Optional(Address),
    email: Type.Optional(Address),
    webhook: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2048, description: 'Must be a webhook a rule in ALERTS_CONFIG names.' }),
    ),
    slackWebhook: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false, description: 'Exactly one destination.' },
)
export type TestBody = Static<typeof TestBody>

export const DeliveryReply = Type.Object({
  destination: Type.String(),
  outcome: Type.Enum(['sent', 'retry', 'dead']),
  detail: Type.String({ description: 'What the third party said (an error code, an SMTP reply, a receipt).' }),
})

export const EmailReply = Type.Object({
  id: Type.String({ description: 'The outbox key; GET /alerts shows it.' }),
  state: Type.Enum([...OUTBOX_STATES]),
  detail: Type.String(),
})

const EntryView = Type.Object({
  key: Type.String(),
  state: Type.Enum([...OUTBOX_STATES]),
  destination: Type.String(),
  rule: Type.Optional(Type.String()),
  service: Type.Optional(Type.String()),
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
  groupSize: Type.Optional(Type.Number()),
})

export const OutboxReply = Type.Object({
  counts: Type.Object(
    Object.fromEntries(OUTBOX_STATES.map((s) => [s, Type.Number()])) as Record<
      (typeof OUTBOX_STATES)[number],
      ReturnType<typeof Type.Number>
    >,
  ),
  entries: Type.Array(EntryView),
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
