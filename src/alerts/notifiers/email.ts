/**
 * E-mail over SMTP with nodemailer (SMTP_URL, ALERT_EMAIL_FROM): multipart/alternative text + HTML. Nodemailer is used
 * because MIME, encodings, STARTTLS and SMTP replies are easy to get subtly wrong by hand. No pooling and no retries of
 * its own: one connection per message, the outbox decides on retries (SMTP 4xx retried, 5xx and a refused login
 * dead). Header values with CR, LF or NUL are refused before nodemailer sees them; recipients must parse; nodemailer
 * may
 * not read files or URLs named in a message.
 */
import nodemailer, { type Transporter } from 'nodemailer'
import { checkEmail } from '../../indicators/email.js'
import type { EmailMessage } from '../formatters/email.js'
import type { Destination } from '../types.js'
import { smtpOutcome } from './delivery-kind.js'
import type { Notifier } from './notifier.js'

export interface EmailSettings {
  readonly smtpUrl: string
  readonly from: string
}

export interface OutgoingEmail extends EmailMessage {
  /** Several recipients (a free-form e-mail); an alert's entry has one, its destination. */
  readonly to?: readonly string[]
  readonly html: string
}

const HEADER_BREAK = /[\r\n\0]/

/** Why a message cannot be sent as it is (header injection, a bad recipient), or undefined. */
const emailProblem = (to: readonly string[], subject: string, from: string): string | undefined => {
  if (to.length === 0) return 'no recipient'
  for (const address of to) {
    if (HEADER_BREAK.test(address)) return 'a recipient holds a line break (refused: header injection)'
    const checked = checkEmail(address)
    if (!checked.ok) return `'${address.slice(0, 80)}' is not an e-mail address (${checked.why})`
  }
  if (HEADER_BREAK.test(subject)) return 'the subject holds a line break (refused: header injection)'
  if (HEADER_BREAK.test(from)) return 'ALERT_EMAIL_FROM holds a line break'
  return undefined
}

/** Nodemailer's options from SMTP_URL: smtps:// is implicit TLS; otherwise STARTTLS when the server offers it. */
const transportOf = (settings: EmailSettings): Transporter => {
  const url = new URL(settings.smtpUrl)
  const secure = url.protocol === 'smtps:'
  return nodemailer.createTransport({
    host: url.hostname,
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    ...(url.username !== ''
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    // Nodemailer's defaults wait up to 10 minutes on a stuck socket; a delivery should fail fast and be retried.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  })
}

export const createEmailNotifier = (settings: EmailSettings): Notifier<OutgoingEmail> => {
  const transport = transportOf(settings)
  return {
    id: 'email',
    async deliver(destination: Destination, message) {
      const to = message.to ?? [destination.target]
      const what = `e-mail to ${to.join(', ').slice(0, 200)}`
      const problem = emailProblem(to, message.subject, settings.from)
      if (problem !== undefined) return { outcome: 'dead', reason: `${what}: ${problem}` }
      try {
        const info = (await transport.sendMail({
          from: settings.from,
          to: [...to],
          subject: message.subject,
          text: message.text,
          html: message.html,
          disableFileAccess: true,
          disableUrlAccess: true,
        })) as { messageId?: string; accepted?: unknown[]; rejected?: unknown[]; response?: string }
        const rejected = (info.rejected ?? []).map(String)
        const detail = `the SMTP server accepted it (${(info.response ?? '').replace(/[\r\n]+/g, ' ').slice(0, 120)})${rejected.length > 0 ? `; refused: ${rejected.join(', ')}` : ''}`
        return { outcome: 'sent', receipt: info.messageId ?? '', detail }
      } catch (err) {
        return smtpOutcome(err, what)
      }
    },
    close: async () => transport.close(),
  }
}
