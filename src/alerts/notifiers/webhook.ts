/**
 * A generic webhook: the alerts as JSON, POSTed to a URL from ALERTS_CONFIG (never from a request). With WEBHOOK_SECRET
 * the exact body is signed, HMAC-SHA256 in hex, as `X-Signature: sha256=<hex>`; `Idempotency-Key` lets a receiver drop
 * the one duplicate at-least-once allows. 2xx is success; 429 and 408/5xx are retried (Retry-After honoured); other
 * 4xx are final. A URL's path and query may be its credential: they never reach a log or an error.
 */
import { createHmac } from 'node:crypto'
import type { HttpClient, HttpClientFactory } from '../../http/types.js'
import type { WebhookBody } from '../formatters/webhook.js'
import { httpStatusOutcome, noAnswerOutcome } from './delivery-kind.js'
import { ALL_STATUSES, NOTIFIER_HTTP, type Notifier } from './notifier.js'

const signatureOf = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

export const createWebhookNotifier = (
  secret: string | undefined,
  http: HttpClientFactory,
  now: () => number = Date.now,
): Notifier<WebhookBody> => {
  const clients = new Map<string, HttpClient>()
  const clientFor = (origin: string): HttpClient => {
    let c = clients.get(origin)
    if (c === undefined)
      clients.set(origin, (c = http({ sourceId: 'webhook', baseUrl: `${origin}/`, ...NOTIFIER_HTTP })))
    return c
  }
  return {
    id: 'webhook',
    async deliver(destination, message, { idempotencyKey }) {
      const url = new URL(destination.target)
      const path = `${url.pathname}${url.search}`
      const what = `webhook ${url.host}`
      const body = JSON.stringify(message)
      const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': idempotencyKey }
      if (secret !== undefined) headers['x-signature'] = signatureOf(secret, body)
      try {
        const res = await clientFor(url.origin).request({
          method: 'POST',
          path,
          body,
          headers,
          answerStatuses: ALL_STATUSES,
          read: 'text',
          secrets: path.length > 1 ? [path] : [],
        })
        const said = typeof res.body === 'string' ? res.body.trim() : ''
        if (res.status >= 200 && res.status < 300)
          return { outcome: 'sent', receipt: `HTTP ${res.status}`, detail: `${what} answered HTTP ${res.status}` }
        return httpStatusOutcome(res.status, res.headers, said, what, now())
      } catch (err) {
        return noAnswerOutcome(err, what)
      }
    },
    async close() {
      for (const c of clients.values()) c.close()
    },
  }
}
