/**
 * The source runtime's two paths: an embedded source that answers at once (no promise, the run's deadline never
 * made), and a vendor source that waits, shared while in flight and given the run's deadline signal, through the
 * vendor kit as every real vendor source is.
 */
import t, { type Test } from 'tap'
import { pino } from 'pino'
import { loadServiceConfig } from '../../src/config/env.js'
import { SourceRuntime, type LookupOptions } from '../../src/enrich/source-runtime.js'
import { SourceError } from '../../src/errors.js'
import { Deadline } from '../../src/http/deadline.js'
import { createHttpClientFactory } from '../../src/http/client.js'
import { Metrics } from '../../src/metrics.js'
import type { Indicator } from '../../src/indicators/types.js'
import type { Finding, LookupContext, SourceDefinition } from '../../src/sources/types.js'
import { defineVendorSource } from '../../src/sources/vendor-kit.js'
import { answeringInstance } from '../../src/sources/answering-instance.js'
import { Writable } from 'node:stream'

const log = pino({ level: 'silent' })
const ip: Indicator = { input: '198.51.100.7', value: '198.51.100.7', type: 'Address' }
const finding = (summary: string): Finding => ({
  verdict: 'unknown',
  score: null,
  confidence: null,
  tags: [],
  summary,
  facts: {},
  raw: null,
})

/** A deadline that counts how often its signal is read. */
const countingDeadline = (t: Test, ms = 60_000): { deadline: Deadline; reads: () => number } => {
  const deadline = new Deadline(ms, () => new SourceError('timeout', 'deadline passed'))
  t.teardown(() => deadline.clear())
  let reads = 0
  const counted = {
    at: deadline.at,
    get signal() {
      reads += 1
      return deadline.signal
    },
  }
  return { deadline: counted as unknown as Deadline, reads: () => reads }
}

const embedded: SourceDefinition = {
  id: 'local',
  title: 'Local',
  kind: 'embedded',
  description: 'answers from memory',
  supports: ['Address'],
  outputs: [],
  settings: [],
  start: async () => ({
    health: () => ({ state: 'ready', detail: '' }),
    answer: (indicator) => {
      if (indicator.value.endsWith('.66')) throw new SourceError('internal', 'cannot read it')
      return finding(`local ${indicator.value}`)
    },
    lookup: async (indicator) => finding(`local ${indicator.value}`),
  }),
}

const seen: { signal: AbortSignal | undefined; deadlineAt: number; apiKey: string | undefined }[] = []
const vendor = defineVendorSource({
  id: 'remote',
  title: 'Remote',
  description: 'a vendor through the kit',
  supports: ['Address'],
  outputs: [],
  baseUrl: 'http://127.0.0.1:9',
  rateLimits: [{ requests: 100, perMs: 1000 }],
  cacheTtlMs: 0,
  key: 'optional',
  lookup: async (_client, indicator, ctx: LookupContext & { readonly apiKey: string | undefined }) => {
    seen.push({ signal: ctx.signal, deadlineAt: ctx.deadlineAt, apiKey: ctx.apiKey })
    return finding(`remote ${indicator.value}`)
  },
})

/** A vendor whose answer waits until the test releases it; it records the signal its call ran under. */
const held: { signal: AbortSignal; release: () => void }[] = []
const slow = defineVendorSource({
  id: 'slow',
  title: 'Slow',
  description: 'answers when released',
  supports: ['Address'],
  outputs: [],
  baseUrl: 'http://127.0.0.1:9',
  rateLimits: [{ requests: 100, perMs: 1000 }],
  cacheTtlMs: 0,
  key: 'none',
  lookup: (_client, indicator, ctx) =>
    new Promise<Finding>((resolve, reject) => {
      held.push({ signal: ctx.signal, release: () => resolve(finding(`slow ${indicator.value}`)) })
      ctx.signal.addEventListener('abort', () => reject(new SourceError('cancelled', 'the shared call was stopped')), {
        once: true,
      })
    }),
})

const start = async (t: Test): Promise<SourceRuntime> => {
  const config = loadServiceConfig({}, [embedded, vendor, slow])
  const metrics = new Metrics()
  const http = createHttpClientFactory({ config, log, metrics, userAgent: 'tc-enrich-test/1.0' })
  const runtime = await SourceRuntime.start([embedded, vendor, slow], config, { log, http }, metrics)
  t.teardown(() => runtime.close())
  return runtime
}

const options = (deadline: Deadline, params: Record<string, unknown> = {}): LookupOptions => ({
  deadline,
  forceRefresh: false,
  params,
  log,
})

t.test('an embedded source answers at once: an outcome, not a promise, and the deadline is never made', async (t) => {
  const runtime = await start(t)
  const { deadline, reads } = countingDeadline(t)
  const outcome = runtime.lookup('local', ip, options(deadline))
  t.notOk(outcome instanceof Promise, 'no promise')
  t.match(outcome, { source: 'local', status: 'ok', finding: { summary: 'local 198.51.100.7' } })
  const failed = runtime.lookup('local', { ...ip, value: '198.51.100.66' }, options(deadline))
  t.match(
    failed,
    { status: 'failed', kind: 'internal', reason: 'internal - cannot read it' },
    'a thrown SourceError is an outcome too',
  )
  t.equal(reads(), 0, 'nothing read the deadline signal')
})

t.test("a vendor source through the kit gets the run's deadline and the request's key", async (t) => {
  const runtime = await start(t)
  seen.length = 0
  const { deadline, reads } = countingDeadline(t, 30_000)
  const outcome = await runtime.lookup('remote', ip, options(deadline, { remote_api_key: 'request-key-1' }))
  t.match(outcome, { status: 'ok', finding: { summary: 'remote 198.51.100.7' } })
  t.equal(seen.length, 1)
  t.equal(seen[0]?.deadlineAt, deadline.at, "the run's deadline, so a Retry-After past it is not waited")
  t.equal(seen[0]?.signal?.aborted, false)
  t.ok(reads() > 0, "the run's signal is listened to")
  t.equal(seen[0]?.apiKey, 'request-key-1', "the request's key overrides the service's")
})

t.test('a shared call outlives a caller who leaves: the other run still gets the answer', async (t) => {
  const runtime = await start(t)
  held.length = 0
  const a = new Deadline(60_000, () => new SourceError('timeout', 'deadline passed'))
  const b = new Deadline(60_000, () => new SourceError('timeout', 'deadline passed'))
  t.teardown(() => (a.clear(), b.clear()))
  const runA = runtime.lookup('slow', ip, options(a))
  const runB = runtime.lookup('slow', ip, options(b))
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(held.length, 1, 'one vendor call for both runs')
  a.abort(new SourceError('cancelled', 'the caller went away before the run answered'))
  t.match(
    await runA,
    { status: 'failed', kind: 'cancelled', reason: /caller went away/ },
    'the run whose caller left says so',
  )
  t.equal(held[0]?.signal.aborted, false, 'the shared call goes on for the run still waiting')
  held[0]?.release()
  t.match(await runB, { status: 'ok', finding: { summary: 'slow 198.51.100.7' } }, 'the other run gets the answer')
})

t.test('a shared call stops when every caller has gone, and the next asker starts a new one', async (t) => {
  const runtime = await start(t)
  held.length = 0
  const a = new Deadline(60_000, () => new SourceError('timeout', 'deadline passed'))
  const b = new Deadline(60_000, () => new SourceError('timeout', 'deadline passed'))
  const c = new Deadline(60_000, () => new SourceError('timeout', 'deadline passed'))
  t.teardown(() => (a.clear(), b.clear(), c.clear()))
  const runA = runtime.lookup('slow', ip, options(a))
  const runB = runtime.lookup('slow', ip, options(b))
  await new Promise((resolve) => setImmediate(resolve))
  a.abort(new SourceError('cancelled', 'A left'))
  b.abort(new SourceError('cancelled', 'B left'))
  await Promise.all([runA, runB])
  t.equal(held[0]?.signal.aborted, true, 'nobody waits for it: the vendor call is stopped')
  const runC = runtime.lookup('slow', ip, options(c))
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(held.length, 2, 'a later run makes its own call')
  held[1]?.release()
  t.match(await runC, { status: 'ok' })
})

t.test('a deadline made after the caller went away is born aborted, with that reason', async (t) => {
  const deadline = new Deadline(60_000, () => new SourceError('timeout', 'deadline passed'))
  deadline.abort(new SourceError('cancelled', 'the caller went away'))
  t.teardown(() => deadline.clear())
  t.ok(deadline.signal.aborted)
  t.match(deadline.signal.reason, { kind: 'cancelled' })
  const late = new Deadline(
    10,
    () => new SourceError('timeout', 'deadline passed'),
    () => 0,
  )
  const past = new Deadline(
    10,
    () => new SourceError('timeout', 'deadline passed'),
    (() => {
      let calls = 0
      return () => (calls++ === 0 ? 0 : 50)
    })(),
  )
  t.notOk(late.signal.aborted, 'not yet passed: a live signal')
  late.clear()
  t.match(past.signal.reason, { kind: 'timeout' }, 'already passed when first read: aborted at once')
})

t.test(
  "an embedded source's own bug: the reply says what failed with which indicator, and the log keeps the error",
  async (t) => {
    const lines: Record<string, unknown>[] = []
    const captured = pino(
      { level: 'info' },
      new Writable({
        write: (chunk: Buffer, _enc, done) => {
          lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>)
          done()
        },
      }),
    )
    const broken: SourceDefinition = {
      ...embedded,
      id: 'broken',
      start: async () =>
        answeringInstance(
          () => ({ state: 'ready', detail: '' }),
          () => {
            throw new TypeError('no table loaded')
          },
          'look up',
        ),
    }
    const config = loadServiceConfig({}, [broken])
    const metrics = new Metrics()
    const runtime = await SourceRuntime.start(
      [broken],
      config,
      { log, http: createHttpClientFactory({ config, log, metrics, userAgent: 'tc-enrich-test/1.0' }) },
      metrics,
    )
    t.teardown(() => runtime.close())
    const { deadline } = countingDeadline(t)
    const outcome = runtime.lookup('broken', ip, { deadline, forceRefresh: false, params: {}, log: captured })
    t.match(outcome, {
      status: 'failed',
      kind: 'internal',
      reason: "internal - cannot look up Address '198.51.100.7': no table loaded",
    })
    t.match(lines, [
      {
        level: 50,
        source: 'broken',
        msg: 'source lookup failed unexpectedly',
        err: { type: 'TypeError', message: 'no table loaded', stack: /TypeError: no table loaded/ },
      },
    ])
  },
)
