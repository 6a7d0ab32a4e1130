/**
 * The benchmark scenarios. Each starts its own processes, measures, and stops them, so one scenario's state
 * (warm code, connections, memory) never flatters another's.
 */
import http from 'node:http'
import { loadServiceConfig } from '../src/config/env.js'
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUTS } from '../src/http/client.js'
import { createClientAgents } from '../src/http/proxy-agents.js'
import { createTransport } from '../src/http/transport.js'
import { sqliteStateStore } from '../src/feed-job/state.js'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { runLoad, type LoadResult } from './load.js'
import {
  cpuMicrosOf,
  memoryMb,
  startHelper,
  startRedisServer,
  startService,
  watchPeakRss,
  type Child,
} from './processes.js'

export interface BenchPaths {
  readonly server: string
  readonly feedJob: string
  readonly feedPlatform: string
  readonly echo: string
  readonly fake: string
  readonly forwarder: string
  readonly gotForwarder: string
}

export interface BenchOptions {
  readonly paths: BenchPaths
  readonly durationS: number
  readonly connections: number
  /** Extra node flags for the service (e.g. --cpu-prof). */
  readonly serviceArgs: readonly string[]
  readonly log: (line: string) => void
}

/** Settings every service run gets: quiet logs (a log line per request is the caller's choice) and no /run limit. */
const BASE_ENV = { LOG_LEVEL: 'warn', RUN_RATE_LIMIT: 'off' } as const

const JSON_HEADERS = { 'content-type': 'application/json' }
const EMBEDDED_BODY = JSON.stringify({ indicator: '8.8.8.8' })
/** What a playbook that branches on the verdict and maps a few facts asks for: ten outputs. */
export const SELECTED_OUTPUTS = [
  'enrich.results.verdict',
  'enrich.results.score',
  'enrich.results.threat_rating',
  'enrich.results.confidence',
  'enrich.results.tags',
  'enrich.results.sources.failed',
  'enrich.results.note',
  'enrich.results.asn.number',
  'enrich.results.asn.org',
  'enrich.results.asn.country',
] as const
const SELECTED_BODY = JSON.stringify({ indicator: '8.8.8.8', outputs: SELECTED_OUTPUTS })

/** A distinct public-looking address per request, so no lookup shares another's in-flight call. */
const addressOf = (n: number): string => `45.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`

const withChild = async <T>(start: Promise<Child>, use: (child: Child) => Promise<T>): Promise<T> => {
  const child = await start
  try {
    return await use(child)
  } finally {
    await child.stop()
  }
}

export const bareEcho = (o: BenchOptions): Promise<LoadResult> =>
  withChild(startHelper(o.paths.echo), (echo) =>
    runLoad({
      url: `http://127.0.0.1:${echo.port}`,
      pid: echo.process.pid,
      connections: o.connections,
      durationS: o.durationS,
      request: { method: 'POST', path: '/echo', headers: JSON_HEADERS, body: EMBEDDED_BODY },
    }),
  )

export interface EmbeddedResult {
  readonly cold: LoadResult
  readonly warm: LoadResult
  /** Warm, the request naming ten outputs. */
  readonly selected: LoadResult
}

/** /run on the embedded sources: the first requests after start (cold), then steady state (warm). */
export const embedded = (o: BenchOptions): Promise<EmbeddedResult> =>
  withChild(startService(o.paths.server, { ...BASE_ENV }, o.serviceArgs), async (svc) => {
    const url = `http://127.0.0.1:${svc.port}`
    const request = { method: 'POST', path: '/run', headers: JSON_HEADERS, body: EMBEDDED_BODY }
    const selectedRequest = { ...request, body: SELECTED_BODY }
    const cold = await runLoad({ url, pid: svc.process.pid, connections: o.connections, amount: 500, request })
    const warmLoad = (req: typeof request): Promise<LoadResult> =>
      runLoad({ url, pid: svc.process.pid, connections: o.connections, durationS: o.durationS, request: req })
    await runLoad({ url, pid: undefined, connections: o.connections, durationS: 2, request })
    const warm = await warmLoad(request)
    await runLoad({ url, pid: undefined, connections: o.connections, durationS: 2, request: selectedRequest })
    const selected = await warmLoad(selectedRequest)
    return { cold, warm, selected }
  })

const getJson = <T>(url: string): Promise<T> =>
  new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => resolve(JSON.parse(text) as T))
      })
      .on('error', reject)
  })

const postJson = (url: string, body: unknown): Promise<{ status: number; json: unknown }> =>
  new Promise((resolve, reject) => {
    const payload = JSON.stringify(body)
    const req = http.request(
      url,
      { method: 'POST', agent: false, headers: { ...JSON_HEADERS, 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown }))
      },
    )
    req.on('error', reject)
    req.end(payload)
  })

export interface VendorPoint {
  readonly connections: number
  readonly fakeDirect: LoadResult
  /** A bare Node forwarder in front of the fake (node:http): the machine's share of any overhead. */
  readonly forwarder: LoadResult
  /** A bare Fastify forwarder making the same call through the same got instance: the goal's baseline. */
  readonly gotForwarder: LoadResult
  readonly run: LoadResult
  readonly fakeServed: number
  /** p50 of /run minus the p50 of the fake measured alone at the same concurrency. */
  readonly overheadP50Ms: number
  /** CPU per forwarded call (µs): the Node forwarder, the got forwarder, the service's /run. */
  readonly cpuMicrosPerCall: { readonly node: number; readonly got: number; readonly run: number }
}

export type VendorResult = readonly VendorPoint[]

/**
 * /run on internetdb against its fake answering after `delayMs`; every call reaches the fake (force_refresh, a
 * distinct address each). Measured with one connection (the app's own cost per call, no queueing) and with
 * `o.connections` (under load: the fake answers the concurrent calls in bursts, so they queue in the app).
 */
export const vendor = (o: BenchOptions, delayMs: number): Promise<VendorResult> =>
  withChild(startHelper(o.paths.fake, { DELAY_MS: String(delayMs) }), async (fake) => {
    const fakeUrl = `http://127.0.0.1:${fake.port}`
    const env = { ...BASE_ENV, INTERNETDB_BASE_URL: fakeUrl, INTERNETDB_RATE_LIMIT: '1000000/1s' }
    return withChild(startService(o.paths.server, env, o.serviceArgs), async (svc) => {
      let n = 0
      const request = {
        method: 'POST',
        path: '/run',
        headers: JSON_HEADERS,
        setupRequest: (req: object) => ({
          ...req,
          body: JSON.stringify({ indicator: addressOf((n += 1)), sources: 'internetdb', force_refresh: true }),
        }),
      }
      const url = `http://127.0.0.1:${svc.port}`
      const points: VendorPoint[] = []
      for (const connections of [1, o.connections]) {
        const fakeDirect = await runLoad({
          url: fakeUrl,
          pid: undefined,
          connections,
          durationS: Math.min(5, o.durationS),
          request: { method: 'GET', path: '/45.1.2.3' },
        })
        const forward = (script: string): Promise<{ load: LoadResult; cpu: number }> =>
          withChild(startHelper(script, { TARGET_PORT: String(fake.port) }), async (fwd) => {
            const fwdRequest = { method: 'POST', path: '/', headers: JSON_HEADERS, body: '{}' }
            const fwdUrl = `http://127.0.0.1:${fwd.port}`
            await runLoad({ url: fwdUrl, pid: undefined, connections, durationS: 1, request: fwdRequest })
            const cpuBefore = cpuMicrosOf(fwd.process.pid)
            const load = await runLoad({
              url: fwdUrl,
              pid: undefined,
              connections,
              durationS: Math.min(5, o.durationS),
              request: fwdRequest,
            })
            return { load, cpu: (cpuMicrosOf(fwd.process.pid) - cpuBefore) / Math.max(1, load.requests) }
          })
        const forwarder = await forward(o.paths.forwarder)
        const gotForwarder = await forward(o.paths.gotForwarder)
        await runLoad({ url, pid: undefined, connections, durationS: 2, request })
        const before = (await getJson<{ served: number }>(`${fakeUrl}/__stats`)).served
        const cpuBefore = cpuMicrosOf(svc.process.pid)
        const run = await runLoad({ url, pid: svc.process.pid, connections, durationS: o.durationS, request })
        const runCpu = (cpuMicrosOf(svc.process.pid) - cpuBefore) / Math.max(1, run.requests)
        const fakeServed = (await getJson<{ served: number }>(`${fakeUrl}/__stats`)).served - before
        points.push({
          connections,
          fakeDirect,
          forwarder: forwarder.load,
          gotForwarder: gotForwarder.load,
          run,
          fakeServed,
          overheadP50Ms: run.p50Ms - fakeDirect.p50Ms,
          cpuMicrosPerCall: { node: forwarder.cpu, got: gotForwarder.cpu, run: runCpu },
        })
      }
      return points
    })
  })

export interface BatchResult {
  readonly indicators: number
  readonly wallS: number
  readonly floorS: number
  readonly refused: number
  readonly served: number
  /** Indicators internetdb answered (the rest failed or were skipped). */
  readonly answered: number
  readonly status: number
  readonly peakRssMb: number
}

/** One /run with `count` indicators against a fake that refuses anything over `perSecond` in any 1 s window. */
export const rateLimitedBatch = (o: BenchOptions, count: number, perSecond: number): Promise<BatchResult> =>
  withChild(startHelper(o.paths.fake, { WINDOW_LIMIT: String(perSecond), WINDOW_MS: '1000' }), async (fake) => {
    const fakeUrl = `http://127.0.0.1:${fake.port}`
    const env = {
      ...BASE_ENV,
      INTERNETDB_BASE_URL: fakeUrl,
      INTERNETDB_RATE_LIMIT: `${perSecond}/1s`,
      RUN_TIMEOUT_MS: String(4 * (count / perSecond) * 1000),
    }
    return withChild(startService(o.paths.server, env, o.serviceArgs), async (svc) => {
      const indicators = Array.from({ length: count }, (_, i) => addressOf(i + 1))
      const peak = svc.process.pid === undefined ? () => 0 : watchPeakRss(svc.process.pid)
      const startedAt = performance.now()
      const res = await postJson(`http://127.0.0.1:${svc.port}/run`, {
        indicator: indicators,
        sources: 'internetdb',
        force_refresh: true,
      })
      const wallS = (performance.now() - startedAt) / 1000
      const stats = await getJson<{ served: number; refused: number }>(`${fakeUrl}/__stats`)
      const ok = [
        (res.json as { outputs?: { enrich?: { results?: { sources?: { ok?: unknown } } } } }).outputs?.enrich?.results
          ?.sources?.ok ?? [],
      ].flat(2)
      return {
        indicators: count,
        wallS,
        floorS: count / perSecond,
        refused: stats.refused,
        served: stats.served,
        answered: ok.filter((x) => x === 'internetdb').length,
        status: res.status,
        peakRssMb: peak(),
      }
    })
  })

/** Scenario 4's measures, over several replicas (one HTTP status each, no one process's RSS). */
export interface ReplicasResult extends Omit<BatchResult, 'status' | 'peakRssMb'> {
  readonly replicas: number
  readonly statuses: readonly number[]
}

/**
 * Issue 11: three service processes sharing one redis-server, one fake vendor limited to `perSecond`; the batch is
 * split across them and posted at once. One shared quota: the fleet should take the floor, and the fake refuse none.
 */
export const replicatedBatch = (
  o: BenchOptions,
  count: number,
  perSecond: number,
  replicas = 3,
): Promise<ReplicasResult> =>
  withChild(startRedisServer(), (redis) =>
    withChild(startHelper(o.paths.fake, { WINDOW_LIMIT: String(perSecond), WINDOW_MS: '1000' }), async (fake) => {
      const fakeUrl = `http://127.0.0.1:${fake.port}`
      const env = {
        ...BASE_ENV,
        REDIS_URL: `redis://127.0.0.1:${redis.port}/0`,
        REPLICAS: String(replicas),
        INTERNETDB_BASE_URL: fakeUrl,
        INTERNETDB_RATE_LIMIT: `${perSecond}/1s`,
        RUN_TIMEOUT_MS: String(4 * (count / perSecond) * 1000),
      }
      const services = await Promise.all(
        Array.from({ length: replicas }, () => startService(o.paths.server, env, o.serviceArgs)),
      )
      try {
        const indicators = Array.from({ length: count }, (_, i) => addressOf(i + 1))
        const shares = services.map((_, r) => indicators.filter((_, i) => i % replicas === r))
        const startedAt = performance.now()
        const replies = await Promise.all(
          services.map((svc, r) =>
            postJson(`http://127.0.0.1:${svc.port}/run`, {
              indicator: shares[r],
              sources: 'internetdb',
              force_refresh: true,
            }),
          ),
        )
        const wallS = (performance.now() - startedAt) / 1000
        const stats = await getJson<{ served: number; refused: number }>(`${fakeUrl}/__stats`)
        const answered = replies
          .map((res) =>
            [
              (res.json as { outputs?: { enrich?: { results?: { sources?: { ok?: unknown } } } } }).outputs?.enrich
                ?.results?.sources?.ok ?? [],
            ].flat(2),
          )
          .reduce((sum, ok) => sum + ok.filter((x) => x === 'internetdb').length, 0)
        return {
          replicas,
          indicators: count,
          wallS,
          floorS: count / perSecond,
          refused: stats.refused,
          served: stats.served,
          answered,
          statuses: replies.map((r) => r.status),
        }
      } finally {
        await Promise.all(services.map((svc) => svc.stop()))
      }
    }),
  )

export interface FeedRunMeasure {
  readonly wallS: number
  readonly peakRssMb: number
  readonly exitCode: number | null
  readonly summary: {
    readonly fetched?: number
    readonly added?: number
    readonly unchanged?: number
    readonly batches?: readonly unknown[]
  }
}

export interface FeedResult {
  readonly rows: number
  readonly first: FeedRunMeasure
  readonly rerun: FeedRunMeasure
}

/** Runs `node dist/src/feed-main.js` once, watching its peak RSS; its last output line is the summary. */
const runFeedProcess = (script: string, env: Record<string, string>): Promise<FeedRunMeasure> =>
  new Promise((resolve, reject) => {
    const startedAt = performance.now()
    const child = spawn(process.execPath, [script, '--feed', 'spamhaus_drop'], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const peak = child.pid === undefined ? () => 0 : watchPeakRss(child.pid, 20)
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    child.once('error', reject)
    child.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '{}'
      let summary: FeedRunMeasure['summary'] = {}
      try {
        summary = JSON.parse(last) as FeedRunMeasure['summary']
      } catch {
        reject(new Error(`the feed job printed no summary: ${out.slice(-500)}`))
        return
      }
      resolve({ wallS: (performance.now() - startedAt) / 1000, peakRssMb: peak(), exitCode: code, summary })
    })
  })

/** Issue 12: a feed of `rows` netblocks, first run (all uploaded) and an unchanged re-run (nothing uploaded). */
export const feedJob = (o: BenchOptions, rows: number): Promise<FeedResult> =>
  withChild(startHelper(o.paths.feedPlatform, { ROWS: String(rows) }), async (fake) => {
    const base = `http://127.0.0.1:${fake.port}`
    const stateDir = mkdtempSync(join(tmpdir(), 'bench-feed-state-'))
    const env = {
      LOG_LEVEL: 'warn',
      TC_API_PATH: base,
      TC_TOKEN: 'bench-token',
      TC_OWNER: 'Bench Org',
      FEED_STATE_DIR: stateDir,
      FEED_SPAMHAUS_DROP_URL: `${base}/drop_v4.json`,
    }
    try {
      const first = await runFeedProcess(o.paths.feedJob, env)
      // Inside the feed's minimum interval the job would not fetch at all; step its state back past it, and drop
      // its ETag so the re-run downloads and reads the whole feed again.
      const state = sqliteStateStore(stateDir)
      const meta = await state.meta('spamhaus_drop')
      if (meta === undefined) throw new Error(`the first run left no state: ${JSON.stringify(first.summary)}`)
      await state.saveMeta('spamhaus_drop', { owner: meta.owner, fetchedAt: meta.fetchedAt - 2 * 3_600_000 })
      await state.close()
      const rerun = await runFeedProcess(o.paths.feedJob, env)
      return { rows, first, rerun }
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

export interface StartupResult {
  readonly runsMs: readonly number[]
  readonly medianMs: number
  readonly rssMb: number
}

/** Process start to /health 200, `runs` times, and RSS once ready (embedded datasets loaded). */
export const startup = async (o: BenchOptions, runs: number): Promise<StartupResult> => {
  const runsMs: number[] = []
  let rssMb = 0
  for (let i = 0; i < runs; i++) {
    await withChild(startService(o.paths.server, { ...BASE_ENV }), async (svc) => {
      runsMs.push(svc.readyMs)
      if (svc.process.pid !== undefined) rssMb = Math.max(rssMb, memoryMb(svc.process.pid))
    })
  }
  const sorted = [...runsMs].sort((a, b) => a - b)
  return { runsMs, medianMs: sorted[Math.floor(sorted.length / 2)] as number, rssMb }
}

export interface HostileResult {
  /** /run under load while the vendor answers 256 KB and 5,000-deep bodies. */
  readonly load: LoadResult
  readonly batches: readonly {
    readonly label: string
    readonly indicators: number
    readonly status: number
    readonly wallS: number
    readonly peakRssMb: number
  }[]
}

/** Issue 14's bad day: a vendor answering huge and deeply nested bodies, under load and in big batches. */
export const hostile = (o: BenchOptions): Promise<HostileResult> =>
  withChild(startHelper(o.paths.fake, { HOSTILE: '1' }), async (fake) => {
    const env = {
      ...BASE_ENV,
      INTERNETDB_BASE_URL: `http://127.0.0.1:${fake.port}`,
      INTERNETDB_RATE_LIMIT: '100000/1s',
      RUN_TIMEOUT_MS: '120000',
    }
    return withChild(startService(o.paths.server, env, o.serviceArgs), async (svc) => {
      const url = `http://127.0.0.1:${svc.port}`
      const body = JSON.stringify({ indicator: '45.1.2.3', sources: 'classify|internetdb', force_refresh: true })
      const load = await runLoad({
        url,
        pid: svc.process.pid,
        connections: o.connections,
        durationS: o.durationS,
        request: { method: 'POST', path: '/run', headers: JSON_HEADERS, body },
      })
      const batch = async (label: string, count: number, sources: string) => {
        const peak = svc.process.pid === undefined ? () => 0 : watchPeakRss(svc.process.pid)
        const startedAt = performance.now()
        const res = await postJson(`${url}/run`, {
          indicator: Array.from({ length: count }, (_, i) => addressOf(i + 1)),
          sources,
          force_refresh: true,
        })
        return {
          label,
          indicators: count,
          status: res.status,
          wallS: (performance.now() - startedAt) / 1000,
          peakRssMb: peak(),
        }
      }
      const batches = [
        await batch('embedded sources', 10_000, 'asn|watchlist|classify'),
        await batch('classify + the hostile vendor', 2_000, 'classify|internetdb'),
        await batch('the hostile vendor, over MAX_VENDOR_LOOKUPS', 10_000, 'classify|internetdb'),
      ]
      return { load, batches }
    })
  })

export interface CallCostResult {
  readonly calls: number
  /** CPU per call (µs), this process: node:http with a keep-alive agent, and the service's got transport. */
  readonly nodeMicros: number
  readonly gotMicros: number
}

/**
 * What got costs per call, apart from any server: sequential keep-alive GETs to the fake (answering at once, in its
 * own process), the answer parsed as JSON, CPU measured in this process. node:http with the same agent settings,
 * then the service's transport (src/http/transport.ts: one pre-built got instance), four rounds each, the best kept.
 */
export const callCost = (o: BenchOptions, calls: number): Promise<CallCostResult> =>
  withChild(startHelper(o.paths.fake), async (fake) => {
    const config = loadServiceConfig({}, [])
    const agents = createClientAgents(config, 'external')
    const transport = createTransport({
      agents,
      timeouts: DEFAULT_TIMEOUTS,
      maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
      rejectUnauthorized: true,
      headers: { 'user-agent': 'bench/1.0', accept: 'application/json' },
    })
    const url = (i: number): URL => new URL(`http://127.0.0.1:${fake.port}/${addressOf(i)}`)
    const viaNode = (i: number): Promise<unknown> =>
      new Promise((resolve, reject) => {
        http
          .get(url(i), { agent: agents.http, headers: { accept: 'application/json' } }, (res) => {
            const chunks: Buffer[] = []
            res.on('data', (c: Buffer) => chunks.push(c))
            res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))))
          })
          .on('error', reject)
      })
    const viaGot = async (i: number): Promise<unknown> => {
      const answer = await transport.send({ method: 'GET', url: url(i) })
      if (answer.kind !== 'answer') throw new Error(`got: ${answer.kind}`)
      return JSON.parse(answer.body.toString('utf8'))
    }
    const measure = async (call: (i: number) => Promise<unknown>): Promise<number> => {
      let best = Infinity
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 200; i++) await call(i)
        const before = process.cpuUsage()
        for (let i = 0; i < calls; i++) await call(i)
        const used = process.cpuUsage(before)
        best = Math.min(best, (used.user + used.system) / calls)
      }
      return best
    }
    const nodeMicros = await measure(viaNode)
    const gotMicros = await measure(viaGot)
    agents.http.destroy()
    return { calls, nodeMicros, gotMicros }
  })

export interface OutboxResult {
  readonly emptyRssMb: number
  readonly sizes: ReadonlyArray<{ entries: number; overEmptyMb: number; addP50Ms: number; dueMs: number }>
}

/** Scenario 9: bench/outbox-measure.ts in its own process (it forks a fresh opener per size); its JSON line. */
export const outboxMemory = (script: string): OutboxResult => {
  const child = spawnSync(process.execPath, ['--expose-gc', script, '--json'], { encoding: 'utf8' })
  if (child.status !== 0) throw new Error(`outbox-measure failed: ${child.stderr}`)
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as OutboxResult
}
