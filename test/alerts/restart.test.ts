/**
 * Nothing lost, nothing doubled across a restart and a kill mid-send: the outbox is a file on disk; a process killed
 * while Slack holds its request (so Slack never accepted it) leaves the entry claimed by a dead process, and the next
 * run sends it: one message per dedup key.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createOutbox } from '../../src/alerts/outbox.js'
import { openSqliteEntryStore } from '../../src/alerts/outbox-sqlite.js'
import { SLACK_TOKEN, startFakeSlack, tempDir, testService, until } from './helpers.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const tsLoader = new URL('../../node_modules/@tapjs/typescript/dist/esm/import.mjs', import.meta.url).href
const rule = {
  id: 'soc',
  service: 'verdict',
  minVerdict: 'malicious',
  destinations: { slackChannels: ['#soc'] },
}
const event = (value: string) => ({
  indicator: { type: 'Host', value },
  verdict: 'malicious',
  score: 90,
  rating: 4,
  confidence: 80,
  tags: [],
  because: [],
})

t.test('a restart keeps what is pending and what was sent: one message per dedup key', async (t) => {
  const slack = await startFakeSlack(t)
  const path = join(tempDir(t), 'outbox.db')
  const first = await testService({ rules: [rule], outboxPath: path, slackUrl: slack.url, groupWaitMs: 0 })
  t.equal(await first.service.observeRun([event('a.evil.test'), event('b.evil.test')]), 2)
  await first.service.close()

  const second = await testService({ rules: [rule], outboxPath: path, slackUrl: slack.url, groupWaitMs: 0 })
  t.equal(await second.service.observeRun([event('a.evil.test')]), 0, 'the restarted service remembers the key')
  t.same(
    (await second.service.deliverDue()).map((r) => r.outcome),
    ['sent'],
  )
  await second.service.close()

  const third = await testService({ rules: [rule], outboxPath: path, slackUrl: slack.url, groupWaitMs: 0 })
  t.teardown(() => third.service.close())
  t.equal(await third.service.observeRun([event('a.evil.test'), event('b.evil.test')]), 0)
  t.same(await third.service.deliverDue(), [])
  t.equal(slack.accepted().length, 1)
  t.equal((await entriesIn(path)).filter((e) => e.state === 'sent').length, 2)
})

/** What the outbox file holds, read by a fresh opener. */
const entriesIn = async (path: string) => {
  const outbox = createOutbox(openSqliteEntryStore(path))
  try {
    return (await outbox.list({ limit: 100 })).entries
  } finally {
    await outbox.close()
  }
}

const runAlerts = (env: Record<string, string>) => {
  const child = spawn(process.execPath, [`--import=${tsLoader}`, 'src/alerts-main.ts'], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', TS_NODE_TRANSPILE_ONLY: '1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr.on('data', (c: Buffer) => (out += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, exited, output: () => out }
}

t.test('killed mid-send (Slack never answered): the next `npm run alerts` sends it, once', async (t) => {
  const slack = await startFakeSlack(t)
  slack.answerPosts({ hang: true }, 'ok')
  const dir = tempDir(t)
  const path = join(dir, 'outbox.db')
  const rules = join(dir, 'rules.json')
  writeFileSync(rules, JSON.stringify({ rules: [rule] }))
  const seed = await testService({ rules: [rule], outboxPath: path, slackUrl: slack.url })
  await seed.service.observeRun([event('a.evil.test')])
  await seed.service.close()
  const env = { ALERTS_CONFIG: rules, ALERTS_OUTBOX_PATH: path, SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: slack.url }

  const killed = runAlerts(env)
  t.teardown(() => killed.child.kill('SIGKILL'))
  await until(() => slack.posts().length === 1, 60_000)
  killed.child.kill('SIGKILL')
  await killed.exited
  const left = (await entriesIn(path))[0]
  t.equal(left?.state, 'sending', 'the kill left it claimed')
  t.equal(slack.accepted().length, 0, 'Slack never accepted the first try')

  const again = runAlerts(env)
  t.equal(await again.exited, 0, again.output())
  t.equal(slack.accepted().length, 1, 'sent once')
  t.equal((await entriesIn(path))[0]?.state, 'sent')
  const summary = JSON.parse(again.output().trim().split('\n').at(-1) ?? '{}') as {
    messages: { sent: number }
    outbox: { sent: number }
  }
  t.equal(summary.messages.sent, 1)
  t.equal(summary.outbox.sent, 1)

  const third = runAlerts(env)
  t.equal(await third.exited, 0)
  t.equal(slack.posts().length, 2, 'nothing more is sent')
})
