/**
 * Slack incoming webhook (SLACK_WEBHOOK_URL): the URL is the credential and fixes the channel. Success is HTTP 200
 * "ok"; errors are text bodies with a status (400 invalid_payload, 403 action_prohibited, 404 channel_not_found, 410
 * channel_is_archived, 429 with Retry-After, 500 rollup_error). The URL's path never reaches a log or an error.
 */
import type { HttpClientFactory } from '../../http/types.js'
import type { SlackMessage } from '../formatters/slack.js'
import { httpStatusOutcome, noAnswerOutcome } from './delivery-kind.js'
import { ALL_STATUSES, NOTIFIER_HTTP, type Notifier } from './notifier.js'

export const createSlackWebhookNotifier = (
  webhookUrl: string,
  http: HttpClientFactory,
  now: () => number = Date.now,
): Notifier<SlackMessage> => {
  const url = new URL(webhookUrl)
  const path = `${url.pathname}${url.search}`
  const client = http({ sourceId: 'slack_webhook', baseUrl: `${url.origin}/`, ...NOTIFIER_HTTP })
  return {
    id: 'slack_webhook',
    async deliver(_destination, message) {
      const what = 'Slack incoming webhook'
      try {
        const res = await client.request({
          method: 'POST',
          path,
          json: { text: message.text, blocks: message.blocks },
          answerStatuses: ALL_STATUSES,
          read: 'text',
          secrets: [path],
        })
        const said = typeof res.body === 'string' ? res.body.trim() : ''
        if (res.status === 200)
          return { outcome: 'sent', receipt: said || 'ok', detail: 'Slack accepted it (incoming webhook)' }
        return httpStatusOutcome(res.status, res.headers, said, what, now())
      } catch (err) {
        return noAnswerOutcome(err, what)
      }
    },
    close: async () => client.close(),
  }
}
