/**
 * npm run bench: builds nothing itself (run after `npm run build`), starts each scenario's processes, drives load
 * with autocannon, prints a table and writes bench/results.md.
 *
 *   node dist/bench/run.js [--duration=10] [--connections=10]
 * [--only=echo,embedded,vendor,callcost,batch,startup,hostile,replicas,feed,outbox] [--cpu-prof]
 *
 * --cpu-prof runs the service with node --cpu-prof, writing .cpuprofile files to bench/profiles/.
 */
import { writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { markdownReport, plainTable, rowsOf, type BenchResults } from './report.js'
import {
  outboxMemory,
  bareEcho,
  callCost,
  embedded,
  feedJob,
  hostile,
  rateLimitedBatch,
  replicatedBatch,
  startup,
  vendor,
  type BenchOptions,
} from './scenarios.js'

const SCENARIOS = [
  'echo',
  'embedded',
  'vendor',
  'callcost',
  'batch',
  'startup',
  'hostile',
  'replicas',
  'feed',
  'outbox',
] as const
type Scenario = (typeof SCENARIOS)[number]

const FAKE_DELAY_MS = 50
const BATCH = 1000
const BATCH_PER_SECOND = 20
const STARTUP_RUNS = 5

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const flag = (name: string): boolean => process.argv.includes(`--${name}`)

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))
// Compiled to dist/bench/: the service and helpers sit next to it in dist/, results go to the source bench/.
const FEED_ROWS = 100_000
const paths = {
  server: here('../src/server.js'),
  feedJob: here('../src/feed-main.js'),
  feedPlatform: here('./fake-feed-platform.js'),
  echo: here('./echo-server.js'),
  fake: here('./fake-vendor-server.js'),
  forwarder: here('./forwarder-server.js'),
  gotForwarder: here('./got-forwarder-server.js'),
  outbox: here('./outbox-measure.js'),
}
const resultsFile = here('../../bench/results.md')
const profileDir = here('../../bench/profiles')

const main = async (): Promise<void> => {
  const only = new Set<Scenario>((arg('only')?.split(',') as Scenario[] | undefined) ?? SCENARIOS)
  const cpuProf = flag('cpu-prof')
  if (cpuProf) mkdirSync(profileDir, { recursive: true })
  const opts: BenchOptions = {
    paths,
    durationS: Number(arg('duration') ?? '10'),
    connections: Number(arg('connections') ?? '10'),
    serviceArgs: cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    log: (line) => process.stdout.write(`${line}\n`),
  }
  const loadBefore = os.loadavg()
  const startedAt = new Date()
  const results: { -readonly [K in keyof BenchResults]: BenchResults[K] } = {
    startedAt,
    environment: {
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      loadBefore,
      loadAfter: loadBefore,
    },
    settings: {
      durationS: opts.durationS,
      connections: opts.connections,
      fakeDelayMs: FAKE_DELAY_MS,
      batch: BATCH,
      batchPerSecond: BATCH_PER_SECOND,
    },
  }
  const step = async <T>(name: Scenario, what: string, run: () => Promise<T>): Promise<T | undefined> => {
    if (!only.has(name)) return undefined
    opts.log(`- ${what} ...`)
    return run()
  }
  const echoBefore = await step('echo', 'bare Fastify echo', () => bareEcho(opts))
  results.embedded = await step('embedded', '/run on the embedded sources (cold, then warm)', () => embedded(opts))
  // The echo again after /run, and the better of the two as the ceiling: on a shared machine one low draw of the
  // echo would otherwise flatter /run's ratio.
  const echoAfter =
    echoBefore !== undefined && results.embedded !== undefined
      ? await step('echo', 'bare Fastify echo again', () => bareEcho(opts))
      : undefined
  const echoes = [echoBefore, echoAfter].filter((e) => e !== undefined)
  results.echo = echoes.reduce<typeof echoBefore>(
    (best, e) => (best === undefined || e.rps > best.rps ? e : best),
    undefined,
  )
  results.echoRuns = echoes.map((e) => e.rps)
  results.vendor = await step('vendor', `/run on internetdb via a ${FAKE_DELAY_MS} ms fake`, () =>
    vendor(opts, FAKE_DELAY_MS),
  )
  results.callCost = await step('callcost', 'CPU per call: node:http and the got transport, sequential', () =>
    callCost(opts, 2_000),
  )
  results.batch = await step(
    'batch',
    `${BATCH} indicators against a ${BATCH_PER_SECOND}/s fake (about ${BATCH / BATCH_PER_SECOND} s)`,
    () => rateLimitedBatch(opts, BATCH, BATCH_PER_SECOND),
  )
  results.startup = await step('startup', `start-up x${STARTUP_RUNS}`, () => startup(opts, STARTUP_RUNS))
  results.hostile = await step(
    'hostile',
    'vendors answering 256 KB and deeply nested bodies, under load and in batches',
    () => hostile(opts),
  )
  results.replicas = await step(
    'replicas',
    `${BATCH} indicators over 3 replicas sharing one Redis, fake at ${BATCH_PER_SECOND}/s`,
    () => replicatedBatch(opts, BATCH, BATCH_PER_SECOND),
  )
  results.feed = await step(
    'feed',
    `the feed job on a ${FEED_ROWS.toLocaleString('en')}-row feed: first run, then an unchanged re-run`,
    () => feedJob(opts, FEED_ROWS),
  )
  results.outbox = await step('outbox', 'the alert outbox filled to 30,000 entries: what an opener holds', () =>
    Promise.resolve(outboxMemory(paths.outbox)),
  )
  results.environment = { ...results.environment, loadAfter: os.loadavg() }

  const rows = rowsOf(results)
  opts.log(`\n${plainTable(rows)}\n`)
  opts.log(
    `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${results.environment.loadAfter.map((x) => x.toFixed(2)).join(' ')}`,
  )
  writeFileSync(resultsFile, markdownReport(results))
  opts.log(`wrote ${resultsFile}`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
