/**
 * Alerts -> a title and plain text, defanged: for a notifier that shows words rather than markup (a pager, a chat
 * without cards). A plugin's notifier may name it (`formatter: 'text'`).
 */
import { defineFormatter, type FormatInput } from '../api.js'
import { defangAlert } from '../defang.js'
import { alertLine, titleOf } from './alert-text.js'

export interface TextMessage {
  readonly title: string
  readonly text: string
}

export const formatText = (input: FormatInput): TextMessage => {
  if (input.email !== undefined) return { title: input.email.subject, text: input.email.text }
  const alerts = input.alerts.map(defangAlert)
  return {
    title: titleOf(alerts, input.type),
    text: alerts.map((a) => `- ${alertLine(a)}${a.link !== undefined ? ` ${a.link}` : ''}`).join('\n'),
  }
}

export const textFormatter = defineFormatter<TextMessage>({ format: formatText })
