/**
 * The formatters, pure: Slack's limits and escaping, e-mail's one-line subject and HTML escaping, the webhook's cap.
 */
import t from 'tap'
import { escapeHtml, formatEmail, oneLine } from '../../src/alerts/formatters/email.js'
import { escapeSlack, formatSlack, SLACK_LIMITS } from '../../src/alerts/formatters/slack.js'
import { formatWebhook, WEBHOOK_LIMITS } from '../../src/alerts/formatters/webhook.js'
import type { Alert } from '../../src/alerts/types.js'

const alert = (value: string, over: Partial<Alert> = {}): Alert => ({
  ruleId: 'r1',
  service: 'verdict',
  indicator: { type: 'URL', value },
  verdict: 'malicious',
  reason: 'virustotal: malicious',
  observedAt: '2026-12-01T12:00:00.000Z',
  ...over,
})

t.test("Slack escaping replaces only &, < and > (Slack's rule), never the whole text", async (t) => {
  t.equal(
    escapeSlack('a & b <!channel> <http://x|y> *bold* _i_'),
    'a &amp; b &lt;!channel&gt; &lt;http://x|y&gt; *bold* _i_',
  )
})

t.test(
  'one alert: the fallback text names it with mentions and links escaped; the value itself is plain_text',
  async (t) => {
    const m = formatSlack([alert('<!channel> <https://evil.test|Reset your password> & more')])
    t.notMatch(m.text, /<!channel>|<https:/)
    t.match(m.text, '&lt;!channel&gt;')
    const section = m.blocks[1]
    t.equal(section?.type, 'section')
    t.same(section?.type === 'section' ? section.fields?.map((f) => f.type) : [], ['plain_text', 'plain_text'])
    t.equal(
      section?.type === 'section' ? section.fields?.[0]?.text : '',
      '<!channel> <https://evil.test|Reset your password> & more',
    )
  },
)

t.test('Slack: a long value is cut within the field limit, a long title within the header limit', async (t) => {
  const m = formatSlack([alert(`http://${'a'.repeat(10_000)}.test/`)])
  const header = m.blocks[0]
  t.ok(header?.type === 'header' && header.text.text.length <= SLACK_LIMITS.headerChars)
  t.ok(header?.type === 'header' && header.text.text.endsWith('…'), 'cut with an ellipsis')
  const section = m.blocks[1]
  t.ok(section?.type === 'section' && (section.fields?.[0]?.text.length ?? 0) <= SLACK_LIMITS.fieldChars)
  t.ok(m.text.length <= SLACK_LIMITS.fallbackChars)
})

t.test('Slack: past 20 alerts or the size budget the message ends with "and N more"', async (t) => {
  const many = formatSlack(Array.from({ length: 300 }, (_, i) => alert(`http://${i}.test/`)))
  t.equal(many.blocks.length, 1 + SLACK_LIMITS.listed + 1)
  const last = many.blocks.at(-1)
  t.equal(last?.type, 'context')
  t.match(last?.type === 'context' ? last.elements[0]?.text : '', 'and 280 more alerts')
  const big = formatSlack(Array.from({ length: 20 }, (_, i) => alert(`http://${i}.${'b'.repeat(1900)}.test/`)))
  t.ok(JSON.stringify(big.blocks).length <= SLACK_LIMITS.messageChars + 2000, 'the size budget holds')
  t.ok(big.blocks.length < 22, 'fewer listed when each is large')
  t.match(JSON.stringify(big.blocks.at(-1)), 'more alert')
})

t.test('a link is a button only when it is http(s)', async (t) => {
  t.ok(
    formatSlack([alert('x', { link: 'https://app.threatconnect.com/x' })]).blocks.some(
      (b) => b.type === 'section' && b.accessory !== undefined,
    ),
  )
  t.notOk(
    formatSlack([alert('x', { link: 'javascript:alert(1)' })]).blocks.some(
      (b) => b.type === 'section' && b.accessory !== undefined,
    ),
  )
})

t.test('e-mail: the subject is one line, the HTML is escaped, the text lists every alert up to the cap', async (t) => {
  const m = formatEmail(
    [alert('evil.test\r\nBcc: x@example.com'), alert('<b>x</b>', { link: 'https://tc.test/1"onmouseover="x' })],
    'tc-enrich',
  )
  t.notMatch(m.subject, /[\r\n]/)
  t.match(m.subject, '[tc-enrich] 2 alerts (r1)')
  t.match(m.text, 'evil.test')
  t.notMatch(m.html, '<b>x</b>')
  t.match(m.html, '&lt;b&gt;x&lt;/b&gt;')
  t.notMatch(m.html, '"onmouseover="', 'an attribute cannot be broken out of')
  t.equal(oneLine('a\r\nb\tc\u0000d'), 'a b c d')
  t.equal(escapeHtml(`<>&"'`), '&lt;&gt;&amp;&quot;&#39;')
  const many = formatEmail(
    Array.from({ length: 250 }, (_, i) => alert(`http://${i}.test/`)),
    'tc-enrich',
  )
  t.match(many.text, 'and 50 more alerts')
})

t.test('webhook: every alert as data, capped, with the count of the rest', async (t) => {
  const body = formatWebhook(
    Array.from({ length: WEBHOOK_LIMITS.listed + 7 }, (_, i) => alert(`http://${i}.test/`)),
    'tc-enrich',
  )
  t.equal(body.count, WEBHOOK_LIMITS.listed + 7)
  t.equal(body.more, 7)
  t.equal(body.alerts.length, WEBHOOK_LIMITS.listed)
})
