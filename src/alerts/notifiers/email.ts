/**
 * E-mail over SMTP with nodemailer (SMTP_URL, ALERT_EMAIL_FROM): one recipient per destination, multipart/alternative
 * text + HTML. Nodemailer is used because MIME, encodings, STARTTLS and SMTP replies are easy to get subtly wrong by
 * hand. No pooling and no retries of its own: one connection per message, the worker decides on retries (SMTP 4xx
 * retried, 5xx and a refused login dead). A recipient the server refused while accepting the message is not "sent":
 * its own reply code decides.
 *
 * Credentials never travel in clear: with a user in SMTP_URL, `smtp://` must upgrade with STARTTLS (`requireTLS`), so a
 * server that does not offer it, or a man in the middle who strips it, gets no password; SMTP_ALLOW_PLAINTEXT=on lifts
 * that for a relay on loopback. Header values with CR, LF or NUL are refused before nodemailer sees them; nodemailer
 * may not read files or URLs named in a message. Every mail says it is automatic (RFC 3834), so no out-of-office
 * answers it.
 */
import nodemailer, { type Transporter } from 'nodemailer'
import { Type } from 'typebox'
import { checkEmail } from '../../indicators/email.js'
import { DeliveryError, defineNotifier } from '../api.js'
import type { EmailMessage } from '../formatters/email.js'
import { refusedRecipient, smtpFailure } from './failures.js'

interface Connection {
  readonly transport: Transporter
  readonly from: string
  readonly requireTls: boolean
}

const HEADER_BREAK = /[\r\n\0]/

/** Headers on every mail: automatic, answer nothing (RFC 3834; Exchange's own header for the same). */
const AUTOMATIC = { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' } as const

/** Why a message cannot be sent as it is (header injection, a bad recipient), or undefined. */
const emailProblem = (to: string, subject: string, from: string): string | undefined => {
  if (HEADER_BREAK.test(to)) return 'the recipient holds a line break (refused: header injection)'
  const checked = checkEmail(to)
  if (!checked.ok) return `'${to.slice(0, 80)}' is not an e-mail address (${checked.why})`
  if (HEADER_BREAK.test(subject)) return 'the subject holds a line break (refused: header injection)'
  if (HEADER_BREAK.test(from)) return 'ALERT_EMAIL_FROM holds a line break'
  return undefined
}

const connectSmtp = (env: Readonly<Record<string, string | undefined>>): Connection => {
  const smtpUrl = env['SMTP_URL']
  const from = env['ALERT_EMAIL_FROM']
  if (smtpUrl === undefined || smtpUrl === '' || from === undefined || from === '')
    throw new Error('needs SMTP_URL and ALERT_EMAIL_FROM')
  const url = new URL(smtpUrl)
  const secure = url.protocol === 'smtps:'
  const login = url.username !== ''
  const requireTls = !secure && login && env['SMTP_ALLOW_PLAINTEXT'] !== 'on'
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    requireTLS: requireTls,
    ...(login ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    // Nodemailer's defaults wait up to 10 minutes on a stuck socket; a delivery should fail fast and be retried.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  })
  return { transport, from, requireTls }
}

export const email = defineNotifier<string, EmailMessage, Connection>({
  settings: Type.String({ minLength: 3, maxLength: 254, description: 'One e-mail address.' }),
  formatter: 'email',
  target: (address) => address.trim().toLowerCase(),
  label: (address) => `email ${address.trim().toLowerCase()}`,
  connect: (context) => connectSmtp(context.env),
  create(address, { connection }) {
    const to = address.trim().toLowerCase()
    const checked = checkEmail(to)
    if (!checked.ok) throw new Error(`'${to.slice(0, 80)}' is not an e-mail address (${checked.why})`)
    const what = `e-mail to ${to}`
    return {
      async send(message) {
        const { subject, text, html } = message.formatted
        const problem = emailProblem(to, subject, connection.from)
        if (problem !== undefined) throw new DeliveryError(`${what}: ${problem}`, { retry: false })
        let info: { messageId?: string; rejected?: unknown[]; rejectedErrors?: unknown[]; response?: string }
        try {
          info = (await connection.transport.sendMail({
            from: connection.from,
            to,
            subject,
            text,
            ...(html !== undefined && html !== '' ? { html } : {}),
            headers: AUTOMATIC,
            disableFileAccess: true,
            disableUrlAccess: true,
          })) as typeof info
        } catch (err) {
          if (connection.requireTls && (err as { code?: string }).code === 'ETLS')
            throw new DeliveryError(
              `${what}: the SMTP server did not upgrade to TLS (STARTTLS), so the login was not sent in clear; ` +
                'SMTP_ALLOW_PLAINTEXT=on allows it for a relay on loopback',
              { cause: err },
            )
          throw smtpFailure(err, what)
        }
        if ((info.rejected ?? []).length > 0) {
          const refusal = (info.rejectedErrors ?? [])[0] as { responseCode?: number; response?: string } | undefined
          throw refusedRecipient(refusal?.responseCode, refusal?.response ?? '', what)
        }
        const said = (info.response ?? '').replace(/[\r\n]+/g, ' ').slice(0, 120)
        return { receipt: info.messageId ?? '', detail: `the SMTP server accepted it (${said})` }
      },
    }
  },
  disconnect: (connection) => connection.transport.close(),
})
