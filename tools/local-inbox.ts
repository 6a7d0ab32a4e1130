/**
 * A local inbox: a real SMTP server on 127.0.0.1 (smtp-server) that keeps every message it receives, parsed with
 * mailparser. The demo shows alert e-mails landing in it; the tests deliver to it. A development tool, never shipped.
 */
import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface LocalInbox {
  /** smtp://[user:pass@]127.0.0.1:<port>, for SMTP_URL. */
  readonly url: string
  readonly messages: ParsedMail[]
  /** Raw messages as received (headers included). */
  readonly raw: string[]
  /** Logins the server was offered (user names; whether it was over TLS): a password must never arrive in clear. */
  readonly logins: Array<{ readonly user: string; readonly secure: boolean }>
  /** RCPT TO this address gets this reply (e.g. 452 or 550). */
  refuse(address: string, code: number, message: string): void
  /** RCPT TO this address is accepted again. */
  accept(address: string): void
  /** Resolves with the next message to arrive (or the first when one is already there and none was taken yet). */
  next(timeoutMs?: number): Promise<ParsedMail>
  close(): Promise<void>
}

export const startLocalInbox = async (
  options: { readonly port?: number; readonly user?: string; readonly pass?: string } = {},
): Promise<LocalInbox> => {
  const messages: ParsedMail[] = []
  const raw: string[] = []
  const refusals = new Map<string, { code: number; message: string }>()
  const logins: Array<{ user: string; secure: boolean }> = []
  const waiting: Array<(m: ParsedMail) => void> = []
  let taken = 0
  const server = new SMTPServer({
    disabledCommands: options.user === undefined ? ['STARTTLS', 'AUTH'] : ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: options.user === undefined,
    logger: false,
    onAuth(auth, session, cb) {
      logins.push({ user: auth.username ?? '', secure: session.secure })
      if (auth.username === options.user && auth.password === options.pass) cb(null, { user: auth.username })
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }))
    },
    onRcptTo(address, _session, cb) {
      const refusal = refusals.get(address.address.toLowerCase())
      if (refusal !== undefined) cb(Object.assign(new Error(refusal.message), { responseCode: refusal.code }))
      else cb()
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        simpleParser(text)
          .then((m) => {
            raw.push(text)
            messages.push(m)
            waiting.shift()?.(m)
            cb()
          })
          .catch((err: Error) => cb(err))
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', () => resolve()))
  const port = (server.server.address() as AddressInfo).port
  const auth =
    options.user === undefined ? '' : `${encodeURIComponent(options.user)}:${encodeURIComponent(options.pass ?? '')}@`
  return {
    url: `smtp://${auth}127.0.0.1:${port}`,
    messages,
    raw,
    logins,
    refuse: (address, code, message) => refusals.set(address.toLowerCase(), { code, message }),
    accept: (address) => refusals.delete(address.toLowerCase()),
    next: (timeoutMs = 10_000) => {
      const ready = messages[taken]
      if (ready !== undefined) {
        taken++
        return Promise.resolve(ready)
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs)
        waiting.push((m) => {
          clearTimeout(timer)
          taken++
          resolve(m)
        })
      })
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
