/**
 * The one place a third party's answer becomes a delivery outcome for the outbox: sent, retry (transient) or dead
 * (permanent: retrying the same message cannot help). Every notifier asks here; none retries on its own.
 */
import { SourceError } from '../../errors.js'
import { parseRetryAfterMs, type ResponseHeaders } from '../../http/retry-policy.js'
import type { DeliveryOutcome } from '../types.js'

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

export const slackErrorOutcome = (error: string, what: string): DeliveryOutcome => {
  if (SLACK_TRANSIENT.has(error))
    return {
      outcome: 'retry',
      reason: `${what}: Slack said ${error}`,
      ...(error.includes('rate') ? { scope: 'workspace' as const } : {}),
    }
  const hint = SLACK_PERMANENT.has(error) ? '' : ' (not a known transient error, so not retried)'
  return { outcome: 'dead', reason: `${what}: Slack said ${error}${hint}` }
}

/** An HTTP answer that is not a success: 429 and 408/5xx are transient (Retry-After honoured), other 4xx permanent. */
export const httpStatusOutcome = (
  status: number,
  headers: ResponseHeaders,
  said: string,
  what: string,
  now: number,
): DeliveryOutcome => {
  const text = said === '' ? '' : `: ${said.slice(0, 200)}`
  if (status === 429) {
    const wait = parseRetryAfterMs(headers['retry-after'], now)
    return {
      outcome: 'retry',
      reason: `${what}: HTTP 429 (rate limited)${text}`,
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
      scope: 'workspace',
    }
  }
  if (status === 408 || status >= 500) {
    const wait = parseRetryAfterMs(headers['retry-after'], now)
    return {
      outcome: 'retry',
      reason: `${what}: HTTP ${status}${text}`,
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    }
  }
  return { outcome: 'dead', reason: `${what}: HTTP ${status}${text}` }
}

/** A call that got no answer (network, timeout, an open circuit): transient. */
export const noAnswerOutcome = (err: unknown, what: string): DeliveryOutcome => {
  const message = err instanceof SourceError || err instanceof Error ? err.message : String(err)
  return { outcome: 'retry', reason: `${what}: ${message.slice(0, 300)}` }
}

/**
 * Nodemailer's error: SMTP 4xx and connection trouble transient; 5xx and authentication permanent (nodemailer docs,
 * "Errors").
 */
export const smtpOutcome = (err: unknown, what: string): DeliveryOutcome => {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string }
  const said = (e.response ?? e.message ?? String(err)).replace(/[\r\n]+/g, ' ').slice(0, 300)
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH')
    return { outcome: 'dead', reason: `${what}: the SMTP server refused the login (${e.code}): check SMTP_URL` }
  if (typeof e.responseCode === 'number' && e.responseCode >= 500)
    return { outcome: 'dead', reason: `${what}: SMTP ${e.responseCode}: ${said}` }
  if (typeof e.responseCode === 'number' && e.responseCode >= 400)
    return { outcome: 'retry', reason: `${what}: SMTP ${e.responseCode}: ${said}` }
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') return { outcome: 'dead', reason: `${what}: ${e.code}: ${said}` }
  return { outcome: 'retry', reason: `${what}: ${e.code ?? 'error'}: ${said}` }
}
