/**
 * Test parts for the alert library, all on 127.0.0.1: a fake Slack (Web API methods and an incoming webhook, Slack's
 * real answers scripted per test) on the fake-vendor server, a real SMTP server (smtp-server) whose messages are
 * parsed with mailparser, a log capture, and a worker built from real parts (the real registry, notifiers, outbox
 * engines) with a clock the test moves.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'
import type { AlertPlugin, PluginContext, ThreatConnectAccess } from '../../src/alerts/api.js'
import type { AlertConfig } from '../../src/alerts/config.js'
import { createOutbox, type EntryStore, type Outbox } from '../../src/alerts/outbox.js'
import { openSqliteEntryStore } from '../../src/alerts/outbox-sqlite.js'
import { buildRegistry } from '../../src/alerts/registry.js'
import { AlertConfigError, parseRules } from '../../src/alerts/rules.js'
import { openWorker, type Worker } from '../../src/alerts/worker.js'
import { loadAlertSettings } from '../../src/config/alert-settings.js'
import { loadServiceConfig } from '../../src/config/env.js'
import { createHttpClientFactory } from '../../src/http/client.js'
import type { HttpClient } from '../../src/http/types.js'
import { Metrics, SERVICE_METRICS } from '../../src/metrics.js'
import { MemoryQuota } from '../../src/state/quota.js'
import { startLocalInbox, type LocalInbox } from '../../tools/local-inbox.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startFakeVendor, type FakeReply, type FakeVendor, type RecordedRequest } from '../helpers/fake-vendor.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export const SLACK_TOKEN = 'xoxb-1111-2222-secret-token-value'
export const WEBHOOK_PATH = '/services/T0001/B0002/webhooksecretpart'
export const WEBHOOK_SECRET = 'webhook-signing-secret-0123456789'

export const tempDir = (t: Teardown, prefix = 'alerts-'): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Log lines as text, for "no secret in a log" checks; and a pino logger writing to it. */
const captureLog = (): { log: Logger; text: () => string } => {
  let out = ''
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString()
      done()
    },
  })
  return { log: pino({ level: 'debug' }, sink), text: () => out }
}

/** Slack's answers, as its Web API gives them. */
const slackOk = (channel = 'C0123'): FakeReply => ({
  json: { ok: true, channel, ts: `17000000${Math.floor(Math.random() * 1e6)}.000100`, message: {} },
})
export const slackError = (error: string): FakeReply => ({ json: { ok: false, error } })

export interface FakeSlack {
  readonly vendor: FakeVendor
  readonly url: string
  /** chat.postMessage calls Slack answered ok:true (what was really posted). */
  accepted(): RecordedRequest[]
  posts(): RecordedRequest[]
  /** Scripts chat.postMessage: the n-th call gets the n-th answer ('ok' posts it), the last one repeats. */
  answerPosts(...answers: Array<FakeReply | 'ok'>): void
}

/** A fake Slack: chat.postMessage answers ok unless a test scripts otherwise; users by e-mail resolve to U1/D1. */
export const startFakeSlack = async (t: Teardown): Promise<FakeSlack> => {
  const vendor = await startFakeVendor(t)
  const accepted = new Set<RecordedRequest>()
  const ok = (req: RecordedRequest): FakeReply => {
    accepted.add(req)
    const channel = (req.json as { channel?: string } | undefined)?.channel ?? 'C0123'
    return slackOk(channel)
  }
  vendor.route('POST', '/api/chat.postMessage', ok)
  vendor.route('POST', '/api/users.lookupByEmail', (req) =>
    req.form?.['email'] === 'analyst@example.com'
      ? { json: { ok: true, user: { id: 'U0ANALYST', profile: {} } } }
      : slackError('users_not_found'),
  )
  vendor.route('POST', '/api/conversations.open', { json: { ok: true, channel: { id: 'D0ANALYST' } } })
  vendor.route('POST', WEBHOOK_PATH, (req) => {
    accepted.add(req)
    return { body: 'ok', headers: { 'content-type': 'text/html' } }
  })
  return {
    vendor,
    url: `${vendor.url}/api`,
    accepted: () => vendor.requests.filter((r) => accepted.has(r)),
    posts: () => vendor.requestsTo('/api/chat.postMessage'),
    answerPosts: (...answers) =>
      vendor.route('POST', '/api/chat.postMessage', ...answers.map((a) => (a === 'ok' ? ok : a))),
  }
}

export type SmtpSink = LocalInbox

/** A real SMTP server on 127.0.0.1 (tools/local-inbox.ts), closed at teardown. */
export const startSmtp = async (t: Teardown, opts: { user?: string; pass?: string } = {}): Promise<SmtpSink> => {
  const inbox = await startLocalInbox(opts)
  t.teardown(() => inbox.close())
  return inbox
}

/** Waits until `check` holds (polling), or fails after `ms`. */
export const until = async (check: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

export interface TestService {
  readonly service: Worker
  readonly outbox: Outbox
  readonly clock: FakeClock
  /** Wall-clock ms the outbox sees; moved with `advance`. */
  now(): number
  advance(ms: number): Promise<void>
  readonly log: () => string
  readonly metrics: Metrics
}

export interface TestServiceOptions {
  /** Rules as ALERTS_CONFIG writes them. */
  readonly rules: readonly unknown[]
  readonly outboxPath: string
  /** Instead of the SQLite file at outboxPath (e.g. the Redis store). */
  readonly entryStore?: EntryStore
  readonly slackUrl?: string
  readonly slackWebhookUrl?: string
  readonly smtpUrl?: string
  readonly groupWaitMs?: number
  readonly start?: number
  /** More settings (ALERTS_RETENTION, ALERTS_EMAIL_API, SMTP_ALLOW_PLAINTEXT, ...). */
  readonly env?: Readonly<Record<string, string>>
  readonly plugins?: ReadonlyArray<{ readonly name: string; readonly plugin: AlertPlugin }>
  readonly savedQueries?: Readonly<Record<string, string>>
  readonly threatConnect?: ThreatConnectAccess
  /** Every notifier's HTTP timeouts (a test of a slow third party shortens them). */
  readonly timeouts?: { readonly connectMs: number; readonly responseMs: number; readonly totalMs: number }
}

/** The environment a test's worker reads: the fakes' URLs and the test credentials. */
const envOf = (o: TestServiceOptions): Record<string, string> => ({
  ALERTS_GROUP_WAIT: `${o.groupWaitMs ?? 30_000}ms`,
  WEBHOOK_SECRET,
  ...(o.slackUrl !== undefined ? { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: o.slackUrl } : {}),
  ...(o.slackWebhookUrl !== undefined ? { SLACK_WEBHOOK_URL: o.slackWebhookUrl } : {}),
  ...(o.smtpUrl !== undefined ? { SMTP_URL: o.smtpUrl, ALERT_EMAIL_FROM: 'TC alerts <alerts@example.com>' } : {}),
  ...o.env,
})

/** The configuration a test's rules make: checked as ALERTS_CONFIG is (throws AlertConfigError). */
const testConfig = (o: TestServiceOptions): AlertConfig => {
  const settings = loadAlertSettings({ ALERTS_CONFIG: 'test', ...envOf(o) })
  const { registry, problems } = buildRegistry(o.plugins ?? [])
  const parsed = parseRules(o.rules, { registry, retentionMs: settings.retentionMs })
  const all = [...problems, ...parsed.problems]
  if (all.length > 0) throw new AlertConfigError('test rules', all)
  return { settings, rules: parsed.rules, registry, savedQueries: o.savedQueries ?? {} }
}

/** The worker on real notifiers, an SQLite (or given) outbox and a fake clock (outbox time and pacing). */
export const testService = async (o: TestServiceOptions): Promise<TestService> => {
  const { log, text } = captureLog()
  const metrics = new Metrics(SERVICE_METRICS)
  const http = createHttpClientFactory({
    config: loadServiceConfig({}, []),
    log,
    metrics,
    userAgent: 'alerts-test/1.0',
  })
  const clock = new FakeClock()
  let wall = o.start ?? Date.parse('2026-12-01T12:00:00Z')
  const clients: HttpClient[] = []
  const context: PluginContext = {
    log,
    product: 'tc-enrich',
    env: envOf(o),
    savedQueries: o.savedQueries ?? {},
    now: () => wall,
    http: (options) => {
      const client = http({
        sourceId: options.name,
        baseUrl: options.baseUrl,
        retry: { limit: 0 },
        timeouts: o.timeouts ?? { connectMs: 2_000, responseMs: 5_000, totalMs: 8_000, ...options.timeouts },
        countAs: 'notifier',
      })
      clients.push(client)
      return client
    },
    ...(o.threatConnect !== undefined ? { threatConnect: o.threatConnect } : {}),
  }
  const outbox = createOutbox(o.entryStore ?? openSqliteEntryStore(o.outboxPath))
  let worker: Worker
  try {
    worker = await openWorker({
      config: testConfig(o),
      outbox,
      context,
      quota: new MemoryQuota(clock),
      metrics,
      log,
      now: () => wall,
    })
  } catch (err) {
    await outbox.close()
    throw err
  }
  return {
    service: {
      ...worker,
      async close() {
        await worker.close()
        for (const c of clients) c.close()
      },
    },
    outbox,
    clock,
    now: () => wall,
    advance: async (ms) => {
      wall += ms
      await clock.advance(ms)
    },
    log: text,
    metrics,
  }
}
