/**
 * The formatters, pure: Slack's limits and escaping, e-mail's one-line subject and HTML escaping, the webhook's cap;
 * defanging where people read, raw values where machines do; cuts that never split a character.
 */
import t from 'tap'
import type { Alert } from '../../src/alerts/api.js'
import { defang } from '../../src/alerts/defang.js'
import { cut } from '../../src/alerts/formatters/alert-text.js'
import { escapeHtml, formatEmail, oneLine } from '../../src/alerts/formatters/email.js'
import { escapeSlack, formatSlack, SLACK_LIMITS } from '../../src/alerts/formatters/slack.js'
import { formatText } from '../../src/alerts/formatters/text.js'
import { formatWebhook, WEBHOOK_LIMITS } from '../../src/alerts/formatters/webhook.js'
import { refang } from '../../src/indicators/refang.js'

const alert = (value: string, over: Partial<Alert> = {}): Alert => ({
  id: 'a1',
  rule: 'r1',
  service: 'verdict',
  type: 'verdict',
  indicator: { type: 'URL', value },
  verdict: 'malicious',
  reason: 'virustotal: malicious',
  observedAt: '2026-12-01T12:00:00.000Z',
  ...over,
})
const input = (alerts: Alert[], type = 'verdict') => ({ type, alerts, product: 'tc-enrich' })

t.test("Slack escaping replaces only &, < and > (Slack's rule), never the whole text", async (t) => {
  t.equal(
    escapeSlack('a & b <!channel> <http://x|y> *bold* _i_'),
    'a &amp; b &lt;!channel&gt; &lt;http://x|y&gt; *bold* _i_',
  )
})

t.test('defanging: what people read cannot be clicked, and the service reads it back', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['URL', 'https://evil.example/login?a=b.c', 'hxxps://evil[.]example/login?a=b.c'],
    ['URL', 'http://1.2.3.4:8080/x', 'hxxp://1[.]2[.]3[.]4:8080/x'],
    ['Host', 'evil.example', 'evil[.]example'],
    ['Address', '203.0.113.9', '203[.]0[.]113[.]9'],
    ['EmailAddress', 'ceo@evil.example', 'ceo[@]evil[.]example'],
    ['File', 'a'.repeat(64), 'a'.repeat(64)],
  ]
  for (const [type, value, shown] of cases) {
    t.equal(defang(type, value), shown, `${type} ${value}`)
    t.equal(refang(shown), value, `${type}: refang reads it back`)
  }
})

t.test('a cut never splits a character: emoji, surrogate pairs and combined sequences stay whole', async (t) => {
  const text = `${'x'.repeat(112)}🚨👩‍💻é̂${'y'.repeat(50)}`
  for (let max = 100; max <= 125; max++) {
    const c = cut(text, max)
    t.ok(c.length <= max, `at most ${max}`)
    t.notMatch(
      c,
      /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/,
      `no lone surrogate at ${max}`,
    )
    t.ok(c.endsWith('…'))
  }
  t.equal(cut('short', 10), 'short')
  const header = formatSlack(
    input([alert('x', { reason: '🚨'.repeat(200), indicator: { type: 'Host', value: `${'h'.repeat(120)}🚨🚨🚨` } })]),
  )
  const text0 = header.blocks[0]?.type === 'header' ? header.blocks[0].text.text : ''
  t.notMatch(text0, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/, 'the Slack header ends on a whole character')
  const subject = formatEmail(
    input([alert('x', { indicator: { type: 'Host', value: `${'h'.repeat(170)}🚨🚨🚨🚨` } })]),
  ).subject
  t.notMatch(subject, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/, 'so does the e-mail subject')
})

t.test('one alert in Slack: the fallback escapes mentions and links; the value is plain_text, defanged', async (t) => {
  const m = formatSlack(input([alert('<!channel> <https://evil.test|Reset your password> & more')]))
  t.notMatch(m.text, /<!channel>|<https:/)
  t.match(m.text, '&lt;!channel&gt;')
  const section = m.blocks[1]
  t.equal(section?.type, 'section')
  t.same(section?.type === 'section' ? section.fields?.map((f) => f.type) : [], ['plain_text', 'plain_text'])
  t.equal(
    section?.type === 'section' ? section.fields?.[0]?.text : '',
    '<!channel> <https://evil[.]test|Reset your password> & more',
  )
  const url = formatSlack(input([alert('https://bad.example/x')]))
  t.notMatch(JSON.stringify(url), 'https://bad.example', 'a malicious URL is nowhere live')
})

t.test('Slack: a long value is cut within the field limit, a long title within the header limit', async (t) => {
  const m = formatSlack(input([alert(`http://${'a'.repeat(10_000)}.test/`)]))
  const header = m.blocks[0]
  t.ok(header?.type === 'header' && header.text.text.length <= SLACK_LIMITS.headerChars)
  t.ok(header?.type === 'header' && header.text.text.endsWith('…'), 'cut with an ellipsis')
  const section = m.blocks[1]
  t.ok(section?.type === 'section' && (section.fields?.[0]?.text.length ?? 0) <= SLACK_LIMITS.fieldChars)
  t.ok(m.text.length <= SLACK_LIMITS.fallbackChars)
})

t.test('Slack: past 20 alerts or the size budget the message ends with "and N more"', async (t) => {
  const many = formatSlack(input(Array.from({ length: 300 }, (_, i) => alert(`http://${i}.test/`))))
  t.equal(many.blocks.length, 1 + SLACK_LIMITS.listed + 1)
  const last = many.blocks.at(-1)
  t.equal(last?.type, 'context')
  t.match(last?.type === 'context' ? last.elements[0]?.text : '', 'and 280 more alerts')
  const big = formatSlack(input(Array.from({ length: 20 }, (_, i) => alert(`http://${i}.${'b'.repeat(1900)}.test/`))))
  t.ok(JSON.stringify(big.blocks).length <= SLACK_LIMITS.messageChars + 2000, 'the size budget holds')
  t.ok(big.blocks.length < 22, 'fewer listed when each is large')
  t.match(JSON.stringify(big.blocks.at(-1)), 'more alert')
})

t.test('the link to ThreatConnect is a plain mrkdwn link (no button, no interactivity endpoint needed)', async (t) => {
  const m = formatSlack(
    input([alert('x', { link: 'https://app.threatconnect.com/auth/indicators/details/host.xhtml?host=x&owner=Org' })]),
  )
  t.notMatch(JSON.stringify(m), '"button"', 'no button: a URL button still sends an interaction payload')
  const context = m.blocks.find((b) => b.type === 'context')
  t.same(context?.type === 'context' ? context.elements : [], [
    {
      type: 'mrkdwn',
      text: '<https://app.threatconnect.com/auth/indicators/details/host.xhtml?host=x&amp;owner=Org|Open in ThreatConnect>',
    },
  ])
  for (const link of ['javascript:alert(1)', 'https://x.test/a|<!channel>', 'https://x.test/a b'])
    t.notOk(
      formatSlack(input([alert('x', { link })])).blocks.some((b) => b.type === 'context'),
      `no link for ${link}`,
    )
})

t.test('each notification type leads with its own facts and title', async (t) => {
  const verdict = formatSlack(input([alert('x', { details: { score: 92 } })], 'verdict'))
  t.match(verdict.text, 'Verdict alert (r1)')
  t.match(JSON.stringify(verdict.blocks[1]), 'score 92')
  const feed = formatSlack(
    input([alert('x', { type: 'feed', verdict: undefined, rating: 4, details: { feed: 'urlhaus' } })], 'feed'),
  )
  t.match(feed.text, 'New in a feed (r1): rating 4 (High)')
  t.match(JSON.stringify(feed.blocks[1]), 'feed urlhaus')
  const watch = formatEmail(input([alert('x', { type: 'watchlist' }), alert('y', { type: 'watchlist' })], 'watchlist'))
  t.match(watch.subject, '[tc-enrich] 2 watchlist matches (r1)')
})

t.test('e-mail: the subject is one line, the HTML is escaped, the text lists every alert up to the cap', async (t) => {
  const m = formatEmail(
    input([
      alert('evil.test\r\nBcc: x@example.com', {
        indicator: { type: 'Host', value: 'evil.test\r\nBcc: x@example.com' },
      }),
      alert('<b>x</b>', { link: 'https://tc.test/1"onmouseover="x' }),
    ]),
  )
  t.notMatch(m.subject, /[\r\n]/)
  t.match(m.subject, '[tc-enrich] 2 verdict alerts (r1)')
  t.match(m.text, 'evil[.]test')
  t.notMatch(m.html, '<b>x</b>')
  t.match(m.html, '&lt;b&gt;x&lt;/b&gt;')
  t.notMatch(m.html, '"onmouseover="', 'an attribute cannot be broken out of')
  t.equal(oneLine('a\r\nb\tc\u0000d'), 'a b c d')
  t.equal(escapeHtml(`<>&"'`), '&lt;&gt;&amp;&quot;&#39;')
  const many = formatEmail(input(Array.from({ length: 250 }, (_, i) => alert(`http://${i}.test/`))))
  t.match(many.text, 'and 50 more alerts')
  const free = formatEmail({ ...input([], 'free-form'), email: { to: 'a@b.test', subject: 'Hi', text: 'Body' } })
  t.same(free, { subject: 'Hi', text: 'Body' }, 'a free-form e-mail goes as written')
})

t.test('webhook: every alert as data with its id, raw values, capped, with the count of the rest', async (t) => {
  const body = formatWebhook(
    input(Array.from({ length: WEBHOOK_LIMITS.listed + 7 }, (_, i) => alert(`http://${i}.test/`))),
  )
  t.equal(body.count, WEBHOOK_LIMITS.listed + 7)
  t.equal(body.more, 7)
  t.equal(body.alerts.length, WEBHOOK_LIMITS.listed)
  t.equal(body.alerts[0]?.indicator.value, 'http://0.test/', 'raw: a receiver is a machine')
  t.equal(body.alerts[0]?.id, 'a1')
})

t.test('text: a title and defanged lines, for a notifier that shows words', async (t) => {
  const m = formatText(input([alert('https://bad.example/x')]))
  t.match(m.title, 'Verdict alert (r1): malicious URL hxxps://bad[.]example/x')
  t.match(m.text, '- malicious: URL hxxps://bad[.]example/x (virustotal: malicious)')
})
