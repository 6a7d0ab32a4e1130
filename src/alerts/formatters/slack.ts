/**
 * Alerts -> one Slack message (Block Kit), within Slack's limits: at most 50 blocks, a header's plain_text at most 150
 * characters, a section's text at most 3,000 and a field at most 2,000, and the whole well under the ~13,000
 * characters where Slack answers msg_blocks_too_long in practice. Past the limits the message ends "…and N more".
 *
 * Values an attacker may choose (indicator values, reasons, tags) are never mrkdwn: they go in plain_text, defanged,
 * and the fallback `text` (which Slack parses) has `&`, `<` and `>` escaped, so a value cannot become `<!channel>` or
 * a link. The link to ThreatConnect is a mrkdwn link in a context block, not a button: a URL button still sends an
 * interaction payload, and without an interactivity endpoint Slack shows a warning after the click.
 */
import { defineFormatter, type Alert, type FormatInput } from '../api.js'
import { defangAlert } from '../defang.js'
import { andMore, cut, severityOf, titleOf } from './alert-text.js'

export const SLACK_LIMITS = {
  blocks: 50,
  headerChars: 150,
  sectionChars: 3000,
  fieldChars: 2000,
  messageChars: 12_000,
  listed: 20,
  fallbackChars: 3000,
  linkChars: 3000,
} as const

/** Slack's own escaping: only these three, and never the whole text (Slack docs, "Escaping text"). */
export const escapeSlack = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

type PlainText = { readonly type: 'plain_text'; readonly text: string; readonly emoji?: boolean }
type Mrkdwn = { readonly type: 'mrkdwn'; readonly text: string }
type SlackBlock =
  | { readonly type: 'header'; readonly text: PlainText }
  | { readonly type: 'section'; readonly text: PlainText | Mrkdwn; readonly fields?: readonly PlainText[] }
  | { readonly type: 'context'; readonly elements: ReadonlyArray<PlainText | Mrkdwn> }

export interface SlackMessage {
  /** The notification's fallback (mrkdwn, escaped). */
  readonly text: string
  readonly blocks: readonly SlackBlock[]
}

const plain = (text: string, max: number): PlainText => ({ type: 'plain_text', text: cut(text, max), emoji: false })

/** The facts each notification type leads with, after the severity and the indicator's type. */
const factsOf = (alert: Alert): string[] => {
  const d = alert.details ?? {}
  if (alert.type === 'verdict' && d['score'] !== undefined) return [`score ${String(d['score'])}`]
  if (alert.type === 'feed' && d['feed'] !== undefined) return [`feed ${String(d['feed'])}`]
  if (alert.type === 'watchlist') return [`watchlist ${alert.rule}`]
  return []
}

/** A link Slack renders as a link and nothing else: http(s), no spaces, no `|` or `>` to end it early. */
const linkBlock = (link: string | undefined): SlackBlock[] =>
  link !== undefined && /^https?:\/\/[^\s|<>]+$/.test(link) && link.length <= SLACK_LIMITS.linkChars
    ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `<${escapeSlack(link)}|Open in ThreatConnect>` }] }]
    : []

const blocksOf = (alert: Alert): SlackBlock[] => [
  {
    type: 'section',
    // Our own words only (the severity and type come from a fixed set), as plain text too.
    text: plain([severityOf(alert), alert.indicator.type, ...factsOf(alert)].join(' · '), SLACK_LIMITS.sectionChars),
    fields: [
      plain(alert.indicator.value, SLACK_LIMITS.fieldChars),
      plain(
        `${alert.reason}${alert.tags !== undefined && alert.tags.length > 0 ? ` · tags: ${alert.tags.join(', ')}` : ''}`,
        SLACK_LIMITS.fieldChars,
      ),
    ],
  },
  ...linkBlock(alert.link),
]

const sizeOf = (blocks: readonly SlackBlock[]): number => JSON.stringify(blocks).length

export const formatSlack = (input: FormatInput): SlackMessage => {
  if (input.email !== undefined) {
    const title = input.email.subject
    return {
      text: cut(escapeSlack(title), SLACK_LIMITS.fallbackChars),
      blocks: [
        { type: 'header', text: plain(title, SLACK_LIMITS.headerChars) },
        { type: 'section', text: plain(input.email.text, SLACK_LIMITS.sectionChars) },
      ],
    }
  }
  const alerts = input.alerts.map(defangAlert)
  const title = titleOf(alerts, input.type)
  const blocks: SlackBlock[] = [{ type: 'header', text: plain(title, SLACK_LIMITS.headerChars) }]
  let size = sizeOf(blocks)
  let listed = 0
  for (const alert of alerts) {
    const more = blocksOf(alert)
    // Room is kept for the closing "and N more" block.
    if (
      listed >= SLACK_LIMITS.listed ||
      blocks.length + more.length > SLACK_LIMITS.blocks - 1 ||
      size + sizeOf(more) > SLACK_LIMITS.messageChars
    )
      break
    blocks.push(...more)
    size += sizeOf(more)
    listed++
  }
  const rest = alerts.length - listed
  if (rest > 0) blocks.push({ type: 'context', elements: [plain(andMore(rest), SLACK_LIMITS.fieldChars)] })
  return { text: cut(escapeSlack(title), SLACK_LIMITS.fallbackChars), blocks }
}

export const slackFormatter = defineFormatter<SlackMessage>({ format: formatSlack })
