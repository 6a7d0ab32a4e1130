/**
 * Slack Web API (SLACK_BOT_TOKEN, SLACK_API_URL): chat.postMessage to a channel by id or name; a user by e-mail through
 * users.lookupByEmail then conversations.open (the DM channel is remembered). Errors come as HTTP 200 {ok:false}:
 * delivery-kind.ts says which are permanent. One attempt per call: the outbox decides on retries, so no hidden
 * re-POST can double a message.
 */
import type { HttpClient, HttpClientFactory, HttpResponse } from '../../http/types.js'
import type { SlackMessage } from '../formatters/slack.js'
import type { DeliveryOutcome, Destination } from '../types.js'
import { httpStatusOutcome, noAnswerOutcome, slackErrorOutcome } from './delivery-kind.js'
import { ALL_STATUSES, NOTIFIER_HTTP, type Notifier } from './notifier.js'

export interface SlackApiSettings {
  readonly token: string
  readonly apiUrl: string
  /** Tests shorten them; the defaults are NOTIFIER_HTTP's. */
  readonly timeouts?: { readonly connectMs: number; readonly responseMs: number; readonly totalMs: number }
}

type SlackAnswer = { ok: true; body: Record<string, unknown> } | { ok: false; outcome: DeliveryOutcome }

export const createSlackApiNotifier = (
  settings: SlackApiSettings,
  http: HttpClientFactory,
  now: () => number = Date.now,
): Notifier<SlackMessage> => {
  const client: HttpClient = http({
    sourceId: 'slack',
    baseUrl: `${settings.apiUrl.replace(/\/+$/, '')}/`,
    ...NOTIFIER_HTTP,
    ...(settings.timeouts !== undefined ? { timeouts: settings.timeouts } : {}),
  })
  const dmChannels = new Map<string, string>()
  const auth = { authorization: `Bearer ${settings.token}` }

  const read = (res: HttpResponse, what: string): SlackAnswer => {
    if (res.status !== 200)
      return {
        ok: false,
        outcome: httpStatusOutcome(res.status, res.headers, typeof res.body === 'string' ? res.body : '', what, now()),
      }
    const body = res.body
    if (typeof body !== 'object' || body === null)
      return { ok: false, outcome: { outcome: 'retry', reason: `${what}: Slack answered something that is not JSON` } }
    const b = body as Record<string, unknown>
    if (b['ok'] === true) return { ok: true, body: b }
    return {
      ok: false,
      outcome: slackErrorOutcome(typeof b['error'] === 'string' ? b['error'] : 'unknown_error', what),
    }
  }

  const call = async (
    method: string,
    what: string,
    req: { json?: unknown; form?: Record<string, string> },
  ): Promise<SlackAnswer> => {
    try {
      const res = await client.request({
        method: 'POST',
        path: method,
        headers: auth,
        answerStatuses: ALL_STATUSES,
        ...(req.json !== undefined ? { json: req.json } : {}),
        ...(req.form !== undefined ? { form: req.form } : {}),
      })
      return read(res, what)
    } catch (err) {
      return { ok: false, outcome: noAnswerOutcome(err, what) }
    }
  }

  const dmChannelOf = async (email: string): Promise<{ channel: string } | { outcome: DeliveryOutcome }> => {
    const known = dmChannels.get(email)
    if (known !== undefined) return { channel: known }
    const user = await call('users.lookupByEmail', `users.lookupByEmail ${email}`, { form: { email } })
    if (!user.ok) return { outcome: user.outcome }
    const id = (user.body['user'] as { id?: unknown } | undefined)?.id
    if (typeof id !== 'string')
      return { outcome: { outcome: 'retry', reason: `users.lookupByEmail ${email}: no user id in Slack's answer` } }
    const opened = await call('conversations.open', `conversations.open for ${email}`, { json: { users: id } })
    if (!opened.ok) return { outcome: opened.outcome }
    const channel = (opened.body['channel'] as { id?: unknown } | undefined)?.id
    if (typeof channel !== 'string')
      return {
        outcome: { outcome: 'retry', reason: `conversations.open for ${email}: no channel id in Slack's answer` },
      }
    dmChannels.set(email, channel)
    return { channel }
  }

  return {
    id: 'slack',
    async deliver(destination: Destination, message) {
      let channel = destination.target
      if (destination.kind === 'slackUser') {
        const dm = await dmChannelOf(destination.target)
        if ('outcome' in dm) return dm.outcome
        channel = dm.channel
      }
      const posted = await call('chat.postMessage', `chat.postMessage to ${destination.target}`, {
        json: { channel, text: message.text, blocks: message.blocks, unfurl_links: false, unfurl_media: false },
      })
      if (!posted.ok) return posted.outcome
      const ts = typeof posted.body['ts'] === 'string' ? posted.body['ts'] : ''
      const ch = typeof posted.body['channel'] === 'string' ? posted.body['channel'] : channel
      return { outcome: 'sent', receipt: `${ch}/${ts}`, detail: `Slack accepted it (channel ${ch}, ts ${ts})` }
    },
    close: async () => client.close(),
  }
}
