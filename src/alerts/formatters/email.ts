/**
 * Alerts -> one e-mail: a subject and multipart/alternative text + HTML (the plain part first, RFC 2046), the
 * indicators defanged. Every value is HTML-escaped in the HTML part; the subject has no line breaks (a header value
 * with CR/LF is how header injection starts), and the notifier refuses any header value that still has one. A
 * free-form e-mail goes as it was written.
 */
import { defineFormatter, type FormatInput } from '../api.js'
import { defangAlert } from '../defang.js'
import { alertLine, andMore, cut, severityOf, titleOf } from './alert-text.js'

const EMAIL_LIMITS = { subjectChars: 200, listed: 200 } as const

export interface EmailMessage {
  readonly subject: string
  readonly text: string
  /** The HTML alternative; a free-form e-mail may have none. */
  readonly html?: string
}

export const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')

/** Line breaks and other control characters become spaces: a subject is one line. */
export const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()

const plural = (n: number): string => (n === 1 ? '' : 's')

export const formatEmail = (input: FormatInput): EmailMessage => {
  if (input.email !== undefined) {
    const { subject, text, html } = input.email
    return { subject, text, ...(html !== undefined ? { html } : {}) }
  }
  const { product } = input
  const alerts = input.alerts.map(defangAlert)
  const listed = alerts.slice(0, EMAIL_LIMITS.listed)
  const rest = alerts.length - listed.length
  const subject = cut(oneLine(`[${product}] ${titleOf(alerts, input.type)}`), EMAIL_LIMITS.subjectChars)
  const text = [
    `${alerts.length} alert${plural(alerts.length)} from ${product}:`,
    '',
    ...listed.map((a) => `- ${alertLine(a)}${a.link !== undefined ? `\n  ${a.link}` : ''}`),
    ...(rest > 0 ? ['', andMore(rest)] : []),
    '',
  ].join('\n')
  const cell = (text: string): string => `<td>${escapeHtml(text)}</td>`
  const rows = listed
    .map((a) =>
      [
        '<tr>',
        cell(severityOf(a)),
        cell(a.indicator.type),
        `<td><code>${escapeHtml(a.indicator.value)}</code></td>`,
        cell(a.reason),
        `<td>${a.link !== undefined && /^https?:\/\//.test(a.link) ? `<a href="${escapeHtml(a.link)}">open</a>` : ''}</td>`,
        '</tr>',
      ].join(''),
    )
    .join('\n')
  const html = [
    '<!doctype html><html><body>',
    `<p>${alerts.length} alert${plural(alerts.length)} from ${escapeHtml(product)}:</p>`,
    '<table border="1" cellpadding="4" cellspacing="0">',
    '<tr><th>Severity</th><th>Type</th><th>Indicator</th><th>Why</th><th></th></tr>',
    rows,
    '</table>',
    rest > 0 ? `<p>${escapeHtml(andMore(rest))}</p>` : '',
    '</body></html>',
  ].join('\n')
  return { subject, text, html }
}

export const emailFormatter = defineFormatter<EmailMessage>({ format: formatEmail })
