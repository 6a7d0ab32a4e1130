/**
 * A generic webhook: the alerts as JSON, POSTed to a URL a rule names (never one from a request). Every delivery says
 * which message it is, the same on every attempt: `Idempotency-Key` and Standard Webhooks' `webhook-id` (a receiver
 * drops the one duplicate at-least-once allows), and each alert in the body carries its own stable `id`. With
 * WEBHOOK_SECRET the delivery is signed as Standard Webhooks signs: `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "<webhook-id>.<webhook-timestamp>.<body>">`, so a receiver can refuse a replay older than its tolerance (5 min
 * recommended). A `whsec_`-prefixed secret is base64 after the prefix, as Standard Webhooks writes them.
 *
 * 2xx is success; 429 and 408/5xx are retried (Retry-After honoured); other 4xx are final. A URL's path and query may
 * be its credential: they never reach a log or an error.
 */
import { createHmac } from 'node:crypto'
import { Type } from 'typebox'
import type { HttpClient } from '../../http/types.js'
import { keyPrint } from '../../state/key-print.js'
import { defineNotifier, type PluginContext } from '../api.js'
import type { WebhookBody } from '../formatters/webhook.js'
import { httpFailure, noAnswer } from './failures.js'
import { ALL_STATUSES } from './slack-api.js'

interface Connection {
  readonly key: Buffer | undefined
  clientFor(origin: string): HttpClient
}

/** The signing key of a secret: `whsec_<base64>` decoded, any other secret as its UTF-8 bytes. */
const signingKeyOf = (secret: string): Buffer =>
  secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8')

/** Standard Webhooks' signature of one delivery. */
const standardSignature = (key: Buffer, id: string, timestamp: number, body: string): string =>
  `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`

const hostOf = (url: string): string => {
  try {
    return new URL(url).host
  } catch {
    return 'invalid-url'
  }
}

const connectWebhooks = (context: PluginContext): Connection => {
  const secret = context.env['WEBHOOK_SECRET']
  const clients = new Map<string, HttpClient>()
  return {
    key: secret === undefined || secret === '' ? undefined : signingKeyOf(secret),
    clientFor(origin) {
      let c = clients.get(origin)
      if (c === undefined) clients.set(origin, (c = context.http({ name: 'webhook', baseUrl: `${origin}/` })))
      return c
    },
  }
}

export const webhooks = defineNotifier<string, WebhookBody, Connection>({
  settings: Type.String({
    pattern: '^https?://[^\\s]+$',
    maxLength: 2048,
    description: 'An http(s) URL (its path and query may be its credential: never logged).',
  }),
  formatter: 'webhook',
  target: (url) => url.trim(),
  label: (url) => `webhook ${hostOf(url.trim())} #${keyPrint(url.trim())}`,
  connect: connectWebhooks,
  create(rawUrl, context) {
    const url = new URL(rawUrl.trim())
    const path = `${url.pathname}${url.search}`
    const what = `webhook ${url.host}`
    const client = context.connection.clientFor(url.origin)
    return {
      async send(message) {
        const body = JSON.stringify(message.formatted)
        const timestamp = Math.floor(context.now() / 1000)
        const headers: Record<string, string> = {
          'content-type': 'application/json; charset=utf-8',
          'idempotency-key': message.id,
          'webhook-id': message.id,
          'webhook-timestamp': String(timestamp),
        }
        const key = context.connection.key
        if (key !== undefined) headers['webhook-signature'] = standardSignature(key, message.id, timestamp, body)
        let res
        try {
          res = await client.request({
            method: 'POST',
            path,
            body,
            headers,
            answerStatuses: ALL_STATUSES,
            read: 'text',
            signal: message.signal,
            secrets: path.length > 1 ? [path] : [],
          })
        } catch (err) {
          throw noAnswer(err, what)
        }
        const said = typeof res.body === 'string' ? res.body.trim() : ''
        if (res.status < 200 || res.status >= 300) throw httpFailure(res.status, res.headers, said, what, context.now())
        return { receipt: `HTTP ${res.status}`, detail: `${what} answered HTTP ${res.status}` }
      },
    }
  },
})
