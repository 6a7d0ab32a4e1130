// @ts-check
/**
 * An alert plugin: Microsoft Teams, through a Workflows webhook ("When a Teams webhook request is received"), with an
 * Adaptive Card. Teams Workflows take Adaptive Cards only (not the old MessageCard of Office 365 connectors), wrapped
 * in a message: {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", ...}]}.
 * The workflow answers 202 Accepted.
 *
 * Use it by naming it in ALERTS_CONFIG:
 *   { "plugins": ["./examples/alerts-teams/teams.mjs"],
 *     "rules": [{ "id": "soc", "service": "verdict", "minVerdict": "malicious",
 *                 "destinations": { "teams": "https://prod-00.westus.logic.azure.com/workflows/…&sig=…" } }] }
 * The URL's query holds its signature: it is a credential, kept out of logs (`secrets`) and labels.
 */
import { DeliveryError, Type, cut, defangAlert, defineFormatter, defineNotifier, definePlugin, severityOf, titleOf } from 'tc-enrich/alerts'

const LISTED = 20
const ANSWERS = Array.from({ length: 500 }, (_, i) => i + 100)

/** Teams renders a subset of Markdown in TextBlocks and facts: a value must not become a link or emphasis. */
const plain = (text) => text.replace(/[\\`*_[\]()#>~|]/g, (c) => `\\${c}`)

/** Alerts -> one Adaptive Card 1.4 in a Teams message: a title, a fact set per alert, a link to ThreatConnect. */
const card = defineFormatter({
  format({ type, alerts, email }) {
    const shown = alerts.map(defangAlert)
    const title = email !== undefined ? email.subject : titleOf(shown, type)
    const body = [
      { type: 'TextBlock', size: 'Medium', weight: 'Bolder', wrap: true, text: plain(cut(title, 200)) },
      ...shown.slice(0, LISTED).map((a) => ({
        type: 'FactSet',
        separator: true,
        facts: [
          { title: 'Indicator', value: plain(cut(`${a.indicator.type} ${a.indicator.value}`, 500)) },
          { title: 'Severity', value: plain(severityOf(a)) },
          { title: 'Why', value: plain(cut(a.reason, 500)) },
        ],
      })),
      ...(shown.length > LISTED
        ? [{ type: 'TextBlock', wrap: true, isSubtle: true, text: `…and ${shown.length - LISTED} more (GET /alerts lists them)` }]
        : []),
    ]
    const link = shown.find((a) => a.link !== undefined && /^https:\/\/\S+$/.test(a.link))?.link
    return {
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body,
            ...(link !== undefined && shown.length === 1 ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in ThreatConnect', url: link }] } : {}),
          },
        },
      ],
    }
  },
})

/** Seconds of a Retry-After header, in ms (Teams' throttling answers 429 with one). */
const retryAfterMs = (value) => {
  const seconds = Number(Array.isArray(value) ? value[0] : value)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined
}

const teams = defineNotifier({
  settings: Type.String({
    // https, or plain http to this host only (a local stand-in).
    pattern: '^(https://|http://(127\\.0\\.0\\.1|localhost)[:/])[^\\s]+$',
    maxLength: 4096,
    description: 'A Teams Workflows webhook URL (its sig= is a credential).',
  }),
  formatter: 'teams-card',
  // Teams throttles webhooks at a few posts a second.
  pacing: { requests: 4, perMs: 1_000, group: 'teams' },
  target: (url) => url.trim(),
  label: (url) => `teams ${new URL(url.trim()).host}`,
  create(url, context) {
    const u = new URL(url.trim())
    const path = `${u.pathname}${u.search}`
    const client = context.http({ name: 'teams', baseUrl: `${u.origin}/` })
    return {
      async send(message) {
        let res
        try {
          res = await client.request({
            method: 'POST',
            path,
            body: JSON.stringify(message.formatted),
            headers: { 'content-type': 'application/json; charset=utf-8' },
            answerStatuses: ANSWERS,
            read: 'text',
            secrets: [path],
            signal: message.signal,
          })
        } catch (err) {
          throw new DeliveryError(`Teams ${u.host}: ${err instanceof Error ? err.message : String(err)}`)
        }
        if (res.status === 200 || res.status === 202) return { receipt: `HTTP ${res.status}`, detail: `Teams accepted it (HTTP ${res.status})` }
        const said = typeof res.body === 'string' ? res.body.slice(0, 200) : ''
        if (res.status === 429 || res.status === 408 || res.status >= 500) {
          const wait = retryAfterMs(res.headers['retry-after'])
          throw new DeliveryError(`Teams ${u.host}: HTTP ${res.status} ${said}`, {
            ...(wait !== undefined ? { retryAfterMs: wait } : {}),
            ...(res.status === 429 ? { scope: 'group' } : {}),
          })
        }
        throw new DeliveryError(`Teams ${u.host}: HTTP ${res.status} ${said}`, { retry: false })
      },
    }
  },
})

export default definePlugin({ formatters: { 'teams-card': card }, notifiers: { teams } })
