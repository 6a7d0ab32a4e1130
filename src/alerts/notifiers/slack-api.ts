/**
 * Slack Web API (SLACK_BOT_TOKEN, SLACK_API_URL): two notifier kinds over one kind of connection.
 *   slackChannels  a channel by id or name: chat.postMessage
 *   slackUsers     a user by Slack member id (U…/W…: posted to at once, no lookup, no extra scope), or by e-mail
 *                  (users.lookupByEmail then conversations.open; the DM channel is remembered)
 * Errors come as HTTP 200 {ok:false}: ./failures.ts says which are permanent. One attempt per call: the worker decides
 * on retries, so no hidden re-POST can double a message. JSON bodies declare `charset=utf-8` (without it Slack
 * answers every call with a `missing_charset` warning).
 */
import { Type } from 'typebox'
import type { HttpClient, HttpResponse } from '../../http/types.js'
import { checkEmail } from '../../indicators/email.js'
import { defineNotifier, type PluginContext } from '../api.js'
import type { SlackMessage } from '../formatters/slack.js'
import { httpFailure, noAnswer, slackFailure } from './failures.js'

/** Statuses read as answers (classified by ./failures.ts), not thrown as failures. */
export const ALL_STATUSES: readonly number[] = Array.from({ length: 500 }, (_, i) => i + 100)

/** Slack allows about one message a second per channel; a 429 holds the whole workspace (both kinds). */
const SLACK_PACING = { requests: 1, perMs: 1_000, group: 'slack' } as const

const SLACK_MEMBER_ID = /^[UW][A-Z0-9]{2,20}$/

interface SlackConnection {
  call(method: string, what: string, req: { json?: unknown; form?: Record<string, string> }): Promise<object>
  readonly dmChannels: Map<string, string>
}

const connectSlack = (context: PluginContext): SlackConnection => {
  const token = context.env['SLACK_BOT_TOKEN']
  if (token === undefined || token === '')
    throw new Error(
      'needs SLACK_BOT_TOKEN (for the incoming webhook instead, set SLACK_WEBHOOK_URL and "slackWebhook": true)',
    )
  const apiUrl = context.env['SLACK_API_URL'] ?? 'https://slack.com/api'
  const client: HttpClient = context.http({ name: 'slack', baseUrl: `${apiUrl.replace(/\/+$/, '')}/` })
  const auth = { authorization: `Bearer ${token}` }
  const read = (res: HttpResponse, what: string): object => {
    if (res.status !== 200)
      throw httpFailure(res.status, res.headers, typeof res.body === 'string' ? res.body : '', what, context.now())
    const b = res.body
    if (typeof b !== 'object' || b === null)
      throw noAnswer(new Error('Slack answered something that is not JSON'), what)
    const body = b as Record<string, unknown>
    if (body['ok'] === true) return body
    throw slackFailure(typeof body['error'] === 'string' ? body['error'] : 'unknown_error', what)
  }
  return {
    dmChannels: new Map(),
    async call(method, what, req) {
      let res: HttpResponse
      try {
        res = await client.request({
          method: 'POST',
          path: method,
          answerStatuses: ALL_STATUSES,
          ...(req.json !== undefined
            ? {
                body: JSON.stringify(req.json),
                headers: { ...auth, 'content-type': 'application/json; charset=utf-8' },
              }
            : { form: req.form ?? {}, headers: auth }),
        })
      } catch (err) {
        throw noAnswer(err, what)
      }
      return read(res, what)
    },
  }
}

const idOf = (value: unknown, field: 'user' | 'channel'): string | undefined => {
  const id = (value as Record<string, { id?: unknown } | undefined>)[field]?.id
  return typeof id === 'string' ? id : undefined
}

const post = async (slack: SlackConnection, channel: string, shown: string, message: SlackMessage) => {
  const body = (await slack.call('chat.postMessage', `chat.postMessage to ${shown}`, {
    json: { channel, text: message.text, blocks: message.blocks, unfurl_links: false, unfurl_media: false },
  })) as Record<string, unknown>
  const ts = typeof body['ts'] === 'string' ? body['ts'] : ''
  const ch = typeof body['channel'] === 'string' ? body['channel'] : channel
  return { receipt: `${ch}/${ts}`, detail: `Slack accepted it (channel ${ch}, ts ${ts})` }
}

export const slackChannels = defineNotifier<string, SlackMessage, SlackConnection>({
  settings: Type.String({ minLength: 1, maxLength: 80, description: 'A channel id (C…) or name (#soc-alerts).' }),
  formatter: 'slack',
  pacing: SLACK_PACING,
  target: (channel) => channel.trim(),
  label: (channel) => `slack channel ${channel.trim()}`,
  connect: connectSlack,
  create: (channel, { connection }) => ({
    send: (message) => post(connection, channel.trim(), channel.trim(), message.formatted),
  }),
})

/** A Slack user: a member id as it is, an e-mail address lower-cased. */
const userTarget = (user: string): string =>
  SLACK_MEMBER_ID.test(user.trim()) ? user.trim() : user.trim().toLowerCase()

export const slackUsers = defineNotifier<string, SlackMessage, SlackConnection>({
  settings: Type.String({
    minLength: 1,
    maxLength: 254,
    description: 'A Slack member id (U0123ABCD) or the e-mail address of the user’s Slack account.',
  }),
  formatter: 'slack',
  pacing: SLACK_PACING,
  target: userTarget,
  label: (user) => `slack user ${userTarget(user)}`,
  connect: connectSlack,
  create(user, { connection }) {
    const target = userTarget(user)
    if (!SLACK_MEMBER_ID.test(target)) {
      const checked = checkEmail(target)
      if (!checked.ok) throw new Error(`'${target.slice(0, 80)}' is neither a Slack member id nor an e-mail address`)
    }
    const channelOf = async (): Promise<string> => {
      if (SLACK_MEMBER_ID.test(target)) return target
      const known = connection.dmChannels.get(target)
      if (known !== undefined) return known
      const found = await connection.call('users.lookupByEmail', `users.lookupByEmail ${target}`, {
        form: { email: target },
      })
      const id = idOf(found, 'user')
      if (id === undefined) throw noAnswer(new Error("no user id in Slack's answer"), `users.lookupByEmail ${target}`)
      const opened = await connection.call('conversations.open', `conversations.open for ${target}`, {
        json: { users: id },
      })
      const channel = idOf(opened, 'channel')
      if (channel === undefined)
        throw noAnswer(new Error("no channel id in Slack's answer"), `conversations.open for ${target}`)
      connection.dmChannels.set(target, channel)
      return channel
    }
    return { send: async (message) => post(connection, await channelOf(), target, message.formatted) }
  },
})
