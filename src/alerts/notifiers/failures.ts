/**
 * The one place a third party's answer becomes a delivery failure: retried (transient) or not (permanent: retrying
 * the same message cannot help). Every built-in notifier asks here; none retries on its own. A plugin's notifier
 * throws its own DeliveryError (or any error: retried).
 */
import { DeliveryError } from '../api.js'
import { parseRetryAfterMs, type ResponseHeaders } from '../../http/retry-policy.js'

/** Slack's `{ok:false, error}` codes that will not change on a retry (docs: chat.postMessage, conversations.open). */
const SLACK_PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'msg_too_long',
  'msg_blocks_too_long',
  'invalid_blocks',
  'invalid_arguments',
  'no_text',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'missing_scope',
  'users_not_found',
  'user_not_found',
  'user_disabled',
  'cannot_dm_bot',
  'restricted_action',
  'channel_is_archived',
  'invalid_payload',
  'action_prohibited',
  'no_service',
  'no_team',
  'team_disabled',
])

/**
 * Transient ones (internal_error and fatal_error may have partly posted: a retry may post twice, which Slack allows no
 * key against).
 */
const SLACK_TRANSIENT = new Set([
  'ratelimited',
  'rate_limited',
  'internal_error',
  'fatal_error',
  'request_timeout',
  'service_unavailable',
  'rollup_error',
])

export const slackFailure = (error: string, what: string): DeliveryError => {
  if (SLACK_TRANSIENT.has(error))
    return new DeliveryError(`${what}: Slack said ${error}`, error.includes('rate') ? { scope: 'group' } : {})
  const hint = SLACK_PERMANENT.has(error) ? '' : ' (not a known transient error, so not retried)'
  return new DeliveryError(`${what}: Slack said ${error}${hint}`, { retry: false })
}

/** An HTTP answer that is not a success: 429 and 408/5xx are transient (Retry-After honoured), other 4xx permanent. */
export const httpFailure = (
  status: number,
  headers: ResponseHeaders,
  said: string,
  what: string,
  now: number,
): DeliveryError => {
  const text = said === '' ? '' : `: ${said.slice(0, 200)}`
  const wait = parseRetryAfterMs(headers['retry-after'], now)
  const after = wait !== undefined ? { retryAfterMs: wait } : {}
  if (status === 429) return new DeliveryError(`${what}: HTTP 429 (rate limited)${text}`, { ...after, scope: 'group' })
  if (status === 408 || status >= 500) return new DeliveryError(`${what}: HTTP ${status}${text}`, after)
  return new DeliveryError(`${what}: HTTP ${status}${text}`, { retry: false })
}

/** A call that got no answer (network, timeout, an open circuit): transient. */
export const noAnswer = (err: unknown, what: string): DeliveryError =>
  new DeliveryError(`${what}: ${(err instanceof Error ? err.message : String(err)).slice(0, 300)}`)

/** One SMTP reply in a line: no CR/LF (it goes to logs and GET /alerts). */
const replyLine = (text: string): string => text.replace(/[\r\n]+/g, ' ').slice(0, 300)

/**
 * Nodemailer's error: SMTP 4xx and connection trouble transient; 5xx, a refused login and a server that would take
 * the credentials in clear permanent until an operator acts (nodemailer docs, "Errors").
 */
export const smtpFailure = (err: unknown, what: string): DeliveryError => {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string }
  const said = replyLine(e.response ?? e.message ?? String(err))
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH')
    return new DeliveryError(`${what}: the SMTP server refused the login (${e.code}): check SMTP_URL`, {
      retry: false,
    })
  if (typeof e.responseCode === 'number' && e.responseCode >= 500)
    return new DeliveryError(`${what}: SMTP ${e.responseCode}: ${said}`, { retry: false })
  if (typeof e.responseCode === 'number' && e.responseCode >= 400)
    return new DeliveryError(`${what}: SMTP ${e.responseCode}: ${said}`)
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE')
    return new DeliveryError(`${what}: ${e.code}: ${said}`, { retry: false })
  return new DeliveryError(`${what}: ${e.code ?? 'error'}: ${said}`)
}

/** A recipient the server refused while taking the message for others: its own code decides. */
export const refusedRecipient = (code: number | undefined, said: string, what: string): DeliveryError =>
  new DeliveryError(`${what}: the SMTP server refused the recipient (${code ?? 'no code'}): ${replyLine(said)}`, {
    retry: code === undefined || code < 500,
  })
