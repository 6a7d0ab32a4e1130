/**
 * The status page in a real browser (Debian's headless Chromium through playwright-core) against a service listening
 * on 127.0.0.1 with real traffic: runs through a vendor stand-in (one answering 429), a feed run through the
 * ThreatConnect stand-in, an alert Slack refused. The figures the page shows are those /status.json gives, each plot
 * drew its series, nothing is asked of any other host (it works offline), the console stays clean, no secret shows,
 * a phone's width does not overflow, and with STATUS_TOKEN the page asks for the token once per tab.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { Page } from 'playwright-core'
import { loadAlertConfig } from '../../src/alerts/config.js'
import type { StatusReply } from '../../src/schemas/status.js'
import { withBrowser } from '../../scripts/browser.js'
import { SLACK_TOKEN, slackError, startFakeSlack, tempDir, until } from '../alerts/helpers.js'
import { startApp } from '../helpers/app.js'
import { startFakeVendor } from '../helpers/fake-vendor.js'
import { ACCESS_ID, SECRET_KEY, startSandbox } from '../platform/harness.js'

const GREYNOISE_KEY = 'gn-secret-key-0123456789'
const ALERTS_TOKEN = 'alerts-token-0123456789'
const WAIT_MS = 15_000

/** Pixels of the canvas (within a small distance) of the series' colour: the series was drawn. */
const pixelsOfColour = (page: Page, selector: string, hex: string): Promise<number> =>
  page.evaluate(`(() => {
    const canvas = document.querySelector(${JSON.stringify(selector)})
    if (canvas === null) return -1
    const target = [1, 3, 5].map((i) => parseInt(${JSON.stringify(hex)}.slice(i, i + 2), 16))
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
    let n = 0
    for (let i = 0; i < data.length; i += 4) {
      const d = Math.abs(data[i] - target[0]) + Math.abs(data[i + 1] - target[1]) + Math.abs(data[i + 2] - target[2])
      if (d < 40 && data[i + 3] > 200) n++
    }
    return n
  })()`)

/** What the browser did besides drawing: console errors, page errors, and every request to another origin. */
const watch = async (page: Page, origin: string) => {
  const problems: string[] = []
  const elsewhere: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  await page.route('**/*', async (route) => {
    const url = route.request().url()
    if (new URL(url).origin === origin) return route.continue()
    elsewhere.push(url)
    return route.abort('internetdisconnected')
  })
  return { problems, elsewhere }
}

const text = async (page: Page, selector: string): Promise<string> =>
  ((await page.locator(selector).first().textContent({ timeout: WAIT_MS })) ?? '').trim()

t.test('the page shows what /status.json says, draws its plots, and asks nothing of the internet', async (t) => {
  const vendor = await startFakeVendor(t)
  vendor.route('GET', /^\/198\.51\.100\.\d+$/, {
    json: { cpes: [], hostnames: [], ip: 'x', ports: [443], tags: [], vulns: [] },
  })
  vendor.route('GET', /^\/v3\/community\//, { status: 429, headers: { 'retry-after': '300' }, json: {} })
  const slack = await startFakeSlack(t)
  slack.answerPosts(slackError('not_in_channel'))
  const sandbox = await startSandbox(t)
  const dir = tempDir(t, 'status-page-')
  writeFileSync(
    join(dir, 'rules.json'),
    JSON.stringify({
      rules: [{ id: 'soc', service: 'verdict', minVerdict: 'malicious', destinations: { slackChannels: '#soc' } }],
    }),
  )
  const alertEnv = {
    ALERTS_CONFIG: join(dir, 'rules.json'),
    ALERTS_OUTBOX_PATH: join(dir, 'outbox.db'),
    ALERTS_GROUP_WAIT: '0',
    ALERTS_TOKEN,
    SLACK_BOT_TOKEN: SLACK_TOKEN,
    SLACK_API_URL: slack.url,
  }
  const alerts = await loadAlertConfig(alertEnv, process.cwd())
  if (alerts === undefined) throw new Error('no alert config')
  const feedEnv = {
    TC_API_PATH: sandbox.url,
    TC_API_ACCESS_ID: ACCESS_ID,
    TC_API_SECRET_KEY: SECRET_KEY,
    TC_OWNER: 'Acme Org',
    FEED_STATE_DIR: dir,
  }
  const { app } = await startApp(
    t,
    {
      INTERNETDB_BASE_URL: vendor.url,
      INTERNETDB_RATE_LIMIT: '10/1m',
      GREYNOISE_BASE_URL: vendor.url,
      GREYNOISE_API_KEY: GREYNOISE_KEY,
    },
    { feeds: { schedule: '0 3 * * *', env: feedEnv }, alerts: { config: alerts, env: alertEnv, tickMs: 20 } },
  )
  const origin = await app.listen({ host: '127.0.0.1', port: 0 })

  const run = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/run', payload })
  for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'])
    await run({ indicator: ip, sources: 'internetdb' })
  await run({ indicator: '198.51.100.9', sources: 'greynoise' })
  await run({ indicator: 'evil[.]example', sources: 'watchlist' })
  await run({ indicator: '192.0.2.200', sources: 'classify' })
  await app.feedSchedule?.runTick(new Date('2026-12-04T03:00:00Z'))
  await app.feedSchedule?.runTick(new Date('2026-12-05T03:00:00Z'))
  const statusNow = async () => (await app.inject({ method: 'GET', url: '/status.json' })).json<StatusReply>()
  await until(() => slack.posts().length > 0)
  let status = await statusNow()
  for (let i = 0; i < 300 && (status.alerts.counts['dead'] ?? 0) === 0; i++) {
    await new Promise((r) => setTimeout(r, 50))
    status = await statusNow()
  }
  t.equal(status.alerts.counts['dead'], 1, 'Slack refused the alert for good')

  await withBrowser({ width: 1280, height: 800 }, async (context) => {
    const page = await context.newPage()
    const seen = await watch(page, origin)
    await page.goto(`${origin}/status`, { waitUntil: 'load', timeout: WAIT_MS })
    await page.waitForSelector('body[data-generated-at]', { timeout: WAIT_MS })
    // The figures as /status.json gives them now (nothing moves between: no traffic, the alert is dead).
    status = await statusNow()

    t.equal(await text(page, '[data-field="runs.runs"]'), String(status.runs.runs))
    t.equal(status.runs.runs, 7)
    for (const [verdict, n] of Object.entries(status.runs.byVerdict))
      t.equal(await text(page, `[data-field="runs.byVerdict.${verdict}"]`), String(n), `${verdict} indicators`)
    t.equal(await text(page, '[data-field="runs.failedRuns"]'), String(status.runs.failedRuns))

    for (const s of status.sources) {
      const row = page.locator(`tr[data-row="${s.id}"]`)
      t.match(await row.locator('.state').textContent(), s.state.replace(/_/g, ' '), `${s.id}: its state in words`)
    }
    t.match(
      await text(page, '[data-quota="internetdb:nokey"]'),
      '4 used / 6 left of 10/1m',
      'the quota as the window holds it',
    )
    const greynoise = status.sources.find((s) => s.id === 'greynoise')
    t.equal(greynoise?.state, 'paused')
    t.match(await text(page, `[data-quota="greynoise:${greynoise?.quota[0]?.key}"]`), /paused by a 429 until/)

    const feed = status.feeds.feeds.find((f) => f.feed === 'file')
    t.equal(feed?.runs.length, 2, 'both feed runs are kept')
    for (const k of ['added', 'updated', 'removed', 'invalid'] as const)
      t.equal(await text(page, `[data-field="feed.file.${k}"]`), String(feed?.runs[1]?.[k]), `feed ${k}`)
    t.equal(feed?.runs[0]?.added, 6, 'the first run added the sample list')

    for (const k of ['dead', 'sent', 'pending'])
      t.equal(await text(page, `[data-field="alerts.counts.${k}"]`), String(status.alerts.counts[k]), `outbox ${k}`)
    t.match(await text(page, '#alert-errors tbody'), /not_in_channel/, "the last error is Slack's")

    // Each plot drew its series, in its own colour.
    t.ok((await pixelsOfColour(page, '#plot-runs canvas', '#0969da')) > 20, 'runs per minute drawn')
    t.ok((await pixelsOfColour(page, '#plot-latency canvas', '#1a7f37')) > 20, 'latency drawn')
    t.ok((await pixelsOfColour(page, '#feed-0-plot canvas', '#1a7f37')) > 20, "the feed's added drawn")

    if (process.env['STATUS_PAGE_SHOT'] !== undefined)
      await page.screenshot({ path: process.env['STATUS_PAGE_SHOT'], fullPage: true })
    const body = await page.content()
    for (const secret of [GREYNOISE_KEY, SLACK_TOKEN, SECRET_KEY, ALERTS_TOKEN]) t.notMatch(body, secret)
    t.equal((await page.locator('h1').count()) + (await page.locator('h2').count()) > 5, true, 'headings')
    t.equal(await page.locator('#sources thead th[scope="col"]').count(), 6, 'table semantics')

    await page.setViewportSize({ width: 390, height: 844 })
    await page.waitForTimeout(400)
    t.ok(
      await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'),
      "a phone's width: the page does not scroll sideways (wide tables scroll in their own box)",
    )
    t.same(seen.elsewhere, [], 'nothing asked of another host: it works offline')
    t.same(seen.problems, [], 'no console error or page error')
  })
})

t.test('with STATUS_TOKEN the page asks for the token once and keeps it for the tab', async (t) => {
  const token = 'status-token-0123456789'
  const { app } = await startApp(t, { STATUS_TOKEN: token })
  const origin = await app.listen({ host: '127.0.0.1', port: 0 })
  await app.inject({ method: 'POST', url: '/run', payload: { indicator: '192.0.2.7', sources: 'classify' } })
  await withBrowser({ width: 1280, height: 800 }, async (context) => {
    const page = await context.newPage()
    const seen = await watch(page, origin)
    // The 401 of the first read is the browser's own console line; it is expected here, and only here.
    await page.goto(`${origin}/status`, { waitUntil: 'load', timeout: WAIT_MS })
    await page.locator('#token-dialog').waitFor({ state: 'visible', timeout: WAIT_MS })
    t.match(await text(page, '#load-error'), /token is needed/)
    await page.fill('#token-input', 'wrong-token-000')
    await page.click('#token-dialog button[type="submit"]')
    await page.locator('#token-dialog').waitFor({ state: 'visible', timeout: WAIT_MS })
    t.match(await text(page, '#load-error'), /refused/)
    await page.fill('#token-input', token)
    await page.click('#token-dialog button[type="submit"]')
    await page.waitForSelector('body[data-generated-at]', { timeout: WAIT_MS })
    t.equal(await text(page, '[data-field="runs.runs"]'), '1')
    await page.reload({ waitUntil: 'load' })
    await page.waitForSelector('body[data-generated-at]', { timeout: WAIT_MS })
    t.notOk(await page.locator('#token-dialog').isVisible(), 'not asked again in this tab')
    t.notMatch(await page.content(), token, 'the token is not written into the page')
    t.same(seen.elsewhere, [])
    t.same(
      seen.problems.filter((p) => !/status of 401/.test(p)),
      [],
      'no console error beyond the refused reads',
    )
  })
})
