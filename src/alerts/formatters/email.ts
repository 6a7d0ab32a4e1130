/**
 * Alerts -> one e-mail: a subject and multipart/alternative text + HTML (the plain part first, RFC 2046). Every value
 * is HTML-escaped in the HTML part; the subject has no line breaks (a header value with CR/LF is how header injection
 * starts), and the notifier refuses any header value that still has one.
 */
import type { Alert } from '../types.js'
import { alertLine, andMore, cut, severityOf, titleOf } from './alert-text.js'

const EMAIL_LIMITS = { subjectChars: 200, listed: 200 } as const

export interface EmailMessage {
  readonly subject: string
  readonly text: string
  readonly html: string
}

export const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')

/** Line breaks and other control characters become spaces: a subject is one line. */
export const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()

export const formatEmail = (alerts: readonly Alert[], product: string): EmailMessage => {
  const listed = alerts.slice(0, EMAIL_LIMITS.listed)
  const rest = alerts.length - listed.length
  const subject = cut(oneLine(`[${product}] ${titleOf(alerts)}`), EMAIL_LIMITS.subjectChars)
  const text = [
    `${alerts.length} alert${alerts.length === 1 ? '' : 's'} from ${product}:`,
    '',
    ...listed.map((a) => `- ${alertLine(a)}${a.link !== undefined ? `\n  ${a.link}` : ''}`),
    ...(rest > 0 ? ['', andMore(rest)] : []),
    '',
  ].join('\n')
  const rows = listed
    .map(
      (a) =>
        `<tr><td>${escapeHtml(severityOf(a))}</td><td>${escapeHtml(a.indicator.type)}</td><td><code>${escapeHtml(a.indicator.value)}</code></td><td>${escapeHtml(a.reason)}</td><td>${
          a.link !== undefined && /^https?:\/\//.test(a.link) ? `<a href="${escapeHtml(a.link)}">open</a>` : ''
        }</td></tr>`,
    )
    .join('\n')
  const html = [
    '<!doctype html><html><body>',
    `<p>${alerts.length} alert${alerts.length === 1 ? '' : 's'} from ${escapeHtml(product)}:</p>`,
    '<table border="1" cellpadding="4" cellspacing="0"><tr><th>Severity</th><th>Type</th><th>Indicator</th><th>Why</th><th></th></tr>',
    rows,
    '</table>',
    rest > 0 ? `<p>${escapeHtml(andMore(rest))}</p>` : '',
    '</body></html>',
  ].join('\n')
  return { subject, text, html }
}
