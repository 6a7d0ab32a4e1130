/**
 * `npm run demo`: the ThreatConnect sandbox and the service together, wired to each other, embedded sources only.
 * Try it with one curl (see README "Demo"), then read the note on the indicator from the sandbox. The alert service
 * runs too, with one rule: a malicious verdict is e-mailed to a local inbox (tools/local-inbox.ts), and the demo shows
 * the first one landing there.
 * A development aid: the sandbox is a stand-in, not ThreatConnect.
 */
import { pino } from 'pino'
import { buildApp } from '../src/app.js'
import { loadServiceConfig } from '../src/config/env.js'
import { buildSandbox } from '../tools/tc-sandbox/app.js'
import { SOURCE_DEFINITIONS } from '../src/sources/registry.js'
import { runFeedJob } from '../src/feed-job/job.js'
import { openJobContext } from '../src/context/process-context.js'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { loadAlertConfig } from '../src/alerts/config.js'
import { findProjectRoot } from '../src/contract/project-root.js'
import { startLocalInbox } from '../tools/local-inbox.js'
import { tmpdir } from 'node:os'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

const SANDBOX = {
  accessId: 'demo-access-id',
  secretKey: 'demo-secret-key',
  token: 'demo-token',
  owners: ['Demo Organization'],
}

const main = async (): Promise<void> => {
  const log = pino({ level: process.env['LOG_LEVEL'] ?? 'warn' })
  const sandbox = buildSandbox({
    ...SANDBOX,
    log: log.child({ app: 'sandbox' }),
    seed: [
      { type: 'Address', value: '203.0.113.9' },
      { type: 'Host', value: 'evil.example' },
    ],
  })
  const sandboxUrl = await sandbox.listen({ host: '127.0.0.1', port: Number(process.env['SANDBOX_PORT'] ?? 8090) })
  const config = loadServiceConfig(
    {
      ...process.env,
      TC_API_PATH: sandboxUrl,
      TC_API_ACCESS_ID: SANDBOX.accessId,
      TC_API_SECRET_KEY: SANDBOX.secretKey,
    },
    SOURCE_DEFINITIONS,
  )
  // The feed job's embedded default (FEEDS=file, the dated sample in data/) lands in the stand-in's owner.
  const feedStateDir = mkdtempSync(join(tmpdir(), 'demo-feed-state-'))
  const feedEnv = {
    TC_API_PATH: sandboxUrl,
    TC_API_ACCESS_ID: SANDBOX.accessId,
    TC_API_SECRET_KEY: SANDBOX.secretKey,
    TC_OWNER: SANDBOX.owners[0],
    FEEDS: 'file',
    FEED_STATE_DIR: feedStateDir,
  }
  const feedContext = await openJobContext(feedEnv, 'tc-enrich-demo/1.0')
  const feed = await runFeedJob({
    context: feedContext,
    env: {
      TC_API_PATH: sandboxUrl,
      TC_API_ACCESS_ID: SANDBOX.accessId,
      TC_API_SECRET_KEY: SANDBOX.secretKey,
      TC_OWNER: SANDBOX.owners[0],
      FEEDS: 'file',
      FEED_STATE_DIR: feedStateDir,
    },
    dryRun: false,
    log: (line) => process.stdout.write(`feed job: ${line}\n`),
    pollMs: 50,
  })
  process.stdout.write(`feed job (exit ${feed.exitCode}): ${feed.summaryLine}\n`)
  // A feed of a real feed's size through the stand-in: a URLhaus-format dump (the banner, CRLF, quoted rows) of
  // 11,125 rows, the size of a real csv_online, served by a local server; the rows are generated in that format.
  const dump = urlhausDump(11_125)
  const feedServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(dump) })
    res.end(dump)
  })
  await new Promise<void>((resolve) => feedServer.listen(0, '127.0.0.1', resolve))
  const big = await runFeedJob({
    context: feedContext,
    env: {
      ...feedEnv,
      FEEDS: 'urlhaus',
      FEED_URLHAUS_URL: `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}/downloads/csv_recent/`,
    },
    dryRun: false,
    log: (line) => process.stdout.write(`feed job: ${line}\n`),
    pollMs: 50,
  })
  feedServer.close()
  await feedContext.close()
  const landed = JSON.parse(big.summaryLine) as { added: number; batches: unknown[] }
  process.stdout.write(
    `feed job, ${(Buffer.byteLength(dump) / 1e6).toFixed(1)} MB URLhaus-format dump (exit ${big.exitCode}): added ${landed.added} in ${landed.batches.length} batches\n`,
  )
  // The alert service: a verdict rule e-mails malicious indicators to a local inbox, at once (no group wait).
  const DEMO_ALERTS_TOKEN = 'demo-alerts-token-0123456789'
  const inbox = await startLocalInbox({ port: Number(process.env['INBOX_PORT'] ?? 2525) })
  const alertsDir = mkdtempSync(join(tmpdir(), 'demo-alerts-'))
  const rules = join(alertsDir, 'rules.json')
  writeFileSync(
    rules,
    JSON.stringify(
      {
        rules: [
          {
            id: 'soc-malicious',
            service: 'verdict',
            minVerdict: 'malicious',
            destinations: { email: 'soc@demo.example' },
          },
        ],
      },
      null,
      2,
    ),
  )
  const alertEnv = {
    ALERTS_CONFIG: rules,
    ALERTS_OUTBOX_PATH: join(alertsDir, 'outbox.db'),
    ALERTS_TOKEN: DEMO_ALERTS_TOKEN,
    ALERTS_GROUP_WAIT: '0',
    SMTP_URL: inbox.url,
    ALERT_EMAIL_FROM: 'TC alerts <alerts@demo.example>',
  }
  const alertConfig = await loadAlertConfig(alertEnv, findProjectRoot())
  const app = await buildApp({
    config,
    logger: log.child({ app: 'service' }),
    ...(alertConfig !== undefined
      ? {
          alerts: {
            config: alertConfig,
            env: {
              ...alertEnv,
              TC_API_PATH: sandboxUrl,
              TC_API_ACCESS_ID: SANDBOX.accessId,
              TC_API_SECRET_KEY: SANDBOX.secretKey,
            },
          },
        }
      : {}),
  })
  const serviceUrl = await app.listen({ host: config.host, port: config.port })
  // A watchlisted indicator enriched as malicious: the verdict service raises an alert, the e-mail lands in the inbox.
  const run = await app.inject({
    method: 'POST',
    url: '/run',
    payload: { indicator: 'evil[.]example', sources: 'watchlist' },
  })
  // The reply nests outputs by the dots of their names.
  const verdict = (run.json() as { outputs?: { enrich?: { results?: { verdict?: string } } } }).outputs?.enrich?.results
    ?.verdict
  process.stdout.write(
    `\nalert: /run evil[.]example answered ${run.statusCode} (verdict ${String(verdict)}); waiting for the e-mail...\n`,
  )
  const mail = await inbox.next(15_000)
  process.stdout.write(
    [
      `inbox ${inbox.url} received:`,
      `  From:    ${mail.from?.text ?? ''}`,
      `  To:      ${Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(', ') : (mail.to?.text ?? '')}`,
      `  Subject: ${mail.subject ?? ''}`,
      ...(mail.text ?? '')
        .trim()
        .split('\n')
        .map((line) => `  | ${line}`),
      '',
    ].join('\n'),
  )
  process.stdout.write(
    [
      '',
      `service  ${serviceUrl}   (embedded sources, writes notes to the sandbox)`,
      `sandbox  ${sandboxUrl}   (ThreatConnect stand-in; token "${SANDBOX.token}")`,
      '',
      'Enrich an indicator the sandbox knows:',
      `  curl -s ${serviceUrl}/run -H 'content-type: application/json' -d '{"indicator": "203.0.113.9", "write_note": true, "apply_rating": true, "apply_tags": true}'`,
      "Then read the note on it (the reply's enrich.results.writeback.indicator_id is the objectId):",
      `  curl -s '${sandboxUrl}/api/v3/posts?objectId=1&objectType=Indicator' -H 'Authorization: TC-Token ${SANDBOX.token}'`,
      'The feed job put the sample feed into the owner (rating, confidence, tags, Source attribute):',
      `  curl -s '${sandboxUrl}/api/v3/indicators?fields=tags&fields=attributes' -H 'Authorization: TC-Token ${SANDBOX.token}'`,
      'The alert outbox (the e-mail above is "sent"); POST /alerts/test sends a sample to the inbox:',
      `  curl -s ${serviceUrl}/alerts -H 'Authorization: Bearer ${DEMO_ALERTS_TOKEN}'`,
      `  curl -s ${serviceUrl}/alerts/test -H 'Authorization: Bearer ${DEMO_ALERTS_TOKEN}' -H 'content-type: application/json' -d '{"email": "soc@demo.example"}'`,
      'Run it again: nothing is uploaded the second time (-- --dry-run shows the plan without writing):',
      `  FEED_STATE_DIR=${feedStateDir} TC_API_PATH=${sandboxUrl} TC_TOKEN=${SANDBOX.token} TC_OWNER='${SANDBOX.owners[0]}' npm run feed`,
      '',
    ].join('\n'),
  )
  const stop = (): void => {
    void Promise.allSettled([app.close(), sandbox.close(), inbox.close()]).then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})

/** A URLhaus csv_recent-format dump of `rows` rows (the real banner and columns, CRLF line ends); generated rows. */
function urlhausDump(rows: number): string {
  const head = [
    '################################################################',
    '# abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #',
    '# (generated for the demo in the real format)                  #',
    '################################################################',
    '#',
    '# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter',
  ]
  const lines = Array.from({ length: rows }, (_, i) => {
    const id = 3_800_000 + i
    const online = i % 3 !== 0
    const at = new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString().slice(0, 19).replace('T', ' ')
    const url = `http://198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}:${40_000 + (i % 20_000)}/${i % 2 === 0 ? 'i' : 'bin.sh'}`
    const tags = i % 7 === 0 ? 'None' : '32-bit,elf,mips,Mozi'
    return [
      id,
      at,
      url,
      online ? 'online' : 'offline',
      online ? at : '',
      'malware_download',
      tags,
      `https://urlhaus.abuse.ch/url/${id}/`,
      'demo',
    ]
      .map((v) => `"${String(v)}"`)
      .join(',')
  })
  return `${[...head, ...lines].join('\r\n')}\r\n`
}
