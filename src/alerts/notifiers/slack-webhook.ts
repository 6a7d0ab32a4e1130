/**
 * Slack incoming webhook (SLACK_WEBHOOK_URL; a rule says `"slackWebhook": true`): the URL is the credential and fixes
 * the channel. Success is HTTP 200 "ok"; errors are text bodies with a status (400 invalid_payload, 403
 * action_prohibited, 404 channel_not_found, 410 channel_is_archived, 429 with Retry-After, 500 rollup_error). The
 * URL's path never reaches a log or an error.
 */
import { Type } from 'typebox'
import type { HttpClient } from '../../http/types.js'
import { defineNotifier } from '../api.js'
import type { SlackMessage } from '../formatters/slack.js'
import { httpFailure, noAnswer } from './failures.js'
import { ALL_STATUSES } from './slack-api.js'

interface Connection {
  readonly client: HttpClient
  readonly path: string
}

export const slackWebhook = defineNotifier<true, SlackMessage, Connection>({
  settings: Type.Literal(true, { description: 'true: post to the channel of SLACK_WEBHOOK_URL.' }),
  formatter: 'slack',
  pacing: { requests: 1, perMs: 1_000 },
  target: () => '',
  label: () => 'slack incoming webhook',
  connect(context) {
    const raw = context.env['SLACK_WEBHOOK_URL']
    if (raw === undefined || raw === '') throw new Error('needs SLACK_WEBHOOK_URL')
    const url = new URL(raw)
    return {
      client: context.http({ name: 'slack_webhook', baseUrl: `${url.origin}/` }),
      path: `${url.pathname}${url.search}`,
    }
  },
  create: (_on, context) => ({
    async send(message) {
      const { client, path } = context.connection
      const what = 'Slack incoming webhook'
      let res
      try {
        res = await client.request({
          method: 'POST',
          path,
          body: JSON.stringify({ text: message.formatted.text, blocks: message.formatted.blocks }),
          headers: { 'content-type': 'application/json; charset=utf-8' },
          answerStatuses: ALL_STATUSES,
          read: 'text',
          secrets: [path],
        })
      } catch (err) {
        throw noAnswer(err, what)
      }
      const said = typeof res.body === 'string' ? res.body.trim() : ''
      if (res.status !== 200) throw httpFailure(res.status, res.headers, said, what, context.now())
      return { receipt: said || 'ok', detail: 'Slack accepted it (incoming webhook)' }
    },
  }),
})
