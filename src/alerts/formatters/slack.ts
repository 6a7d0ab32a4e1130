/**
 * Alerts -> one Slack message (Block Kit), within Slack's limits: at most 50 blocks, a header's plain_text at most 150
 * characters, a section's text at most 3,000 and a field at most 2,000, and the whole well under the ~13,000
 * characters where Slack answers msg_blocks_too_long in practice. Past the limits the message ends "…and N more".
 *
 * Values an attacker may choose (indicator values, reasons, tags) are never mrkdwn: they go in plain_text, and the
 * fallback `text` (which Slack parses) has `&`, `<` and `>` escaped, so a value cannot become `<!channel>` or a link.
 */
import type { Alert } from '../types.js'
import { andMore, cut, severityOf, titleOf } from './alert-text.js'

export const SLACK_LIMITS = {
  blocks: 50,
  headerChars: 150,
  sectionChars: 3000,
  fieldChars: 2000,
  messageChars: 12_000,
  listed: 20,
  fallbackChars: 3000,
} as const

/** Slack's own escaping: only these three, and never the whole text (Slack docs, "Escaping text"). */
export const escapeSlack = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

type PlainText = { readonly type: 'plain_text'; readonly text: string; readonly emoji?: boolean }
type Mrkdwn = { readonly type: 'mrkdwn'; readonly text: string }
type SlackBlock =
  | { readonly type: 'header'; readonly text: PlainText }
  | {
      readonly type: 'section'
      readonly text: PlainText | Mrkdwn
      readonly fields?: readonly PlainText[]
      readonly accessory?: unknown
    }
  | { readonly type: 'context'; readonly elements: ReadonlyArray<PlainText | Mrkdwn> }

export interface SlackMessage {
  /** The notification's fallback (mrkdwn, escaped). */
  readonly text: string
  readonly blocks: readonly SlackBlock[]
}

const plain = (text: string, max: number): PlainText => ({ type: 'plain_text', text: cut(text, max), emoji: false })

const sectionOf = (alert: Alert): SlackBlock => ({
  type: 'section',
  // Our own words only (the severity and type come from a fixed set), as plain text too.
  text: plain(`${severityOf(alert)} · ${alert.indicator.type}`, SLACK_LIMITS.sectionChars),
  fields: [
    plain(alert.indicator.value, SLACK_LIMITS.fieldChars),
    plain(
      `${alert.reason}${alert.tags !== undefined && alert.tags.length > 0 ? ` · tags: ${alert.tags.join(', ')}` : ''}`,
      SLACK_LIMITS.fieldChars,
    ),
  ],
  ...(alert.link !== undefined && /^https?:\/\//.test(alert.link) && alert.link.length <= 3000
    ? { accessory: { type: 'button', text: plain('Open in ThreatConnect', 75), url: alert.link } }
    : {}),
})

const sizeOf = (block: SlackBlock): number => JSON.stringify(block).length

export const formatSlack = (alerts: readonly Alert[]): SlackMessage => {
  const title = titleOf(alerts)
  const blocks: SlackBlock[] = [{ type: 'header', text: plain(title, SLACK_LIMITS.headerChars) }]
  let size = sizeOf(blocks[0] as SlackBlock)
  let listed = 0
  for (const alert of alerts) {
    const block = sectionOf(alert)
    // Room is kept for the closing "and N more" block.
    if (
      listed >= SLACK_LIMITS.listed ||
      blocks.length >= SLACK_LIMITS.blocks - 1 ||
      size + sizeOf(block) > SLACK_LIMITS.messageChars
    )
      break
    blocks.push(block)
    size += sizeOf(block)
    listed++
  }
  const rest = alerts.length - listed
  if (rest > 0) blocks.push({ type: 'context', elements: [plain(andMore(rest), SLACK_LIMITS.fieldChars)] })
  return { text: cut(escapeSlack(title), SLACK_LIMITS.fallbackChars), blocks }
}
