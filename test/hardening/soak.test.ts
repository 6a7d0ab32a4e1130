/**
 * Memory stays flat over a soak of 5,000 /run calls mixing good indicators, bad input and a failing vendor:
 * heap used after a full GC at the end is within a few MB of what it was after the warm-up.
 * Bounded in count (not time); no timing assertions.
 */
import t from 'tap'
import v8 from 'node:v8'
import vm from 'node:vm'
import { startApp } from '../helpers/app.js'
import { startFakeVendor } from '../helpers/fake-vendor.js'

// --expose-gc is not among tap's node flags: turn it on now and take the gc function from a fresh context.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

const heapAfterGc = async (): Promise<number> => {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc()
  }
  return process.memoryUsage().heapUsed
}

const WARM_UP = 1000
const SOAK = 5000
/** Allowed heap growth from the warm-up to the end. A leak of even 1 KB per call would show as ~4 MB. */
const MAX_GROWTH_BYTES = 3 * 1024 * 1024

t.test(`heap flat over ${SOAK} /run calls (ok, bad input, failing vendor)`, async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => void process.off('unhandledRejection', onUnhandled))

  const vendor = await startFakeVendor(t)
  let n = 0
  // Mostly answers, some garbage, now and then a 500 (retried after a backoff, so kept rare to bound the run time).
  vendor.route('GET', /.*/, () => {
    n += 1
    if (n % 25 === 0) return { status: 500, json: { detail: 'boom' } }
    if (n % 3 === 1) return { body: 'not json at all', headers: { 'content-type': 'application/json' } }
    return { json: { cpes: [], hostnames: ['h.example'], ip: '192.0.2.1', ports: [22, 443], tags: [], vulns: [] } }
  })
  const { app, logs } = await startApp(t, {
    LOG_LEVEL: 'warn',
    INTERNETDB_BASE_URL: vendor.url,
    INTERNETDB_RATE_LIMIT: '100000/1s',
    RUN_TIMEOUT_MS: '2000',
    RUN_RATE_LIMIT: '1000000/1m',
  })

  const statuses = new Map<number, number>()
  const call = async (i: number): Promise<void> => {
    const octet = (i * 7919) % 250
    const payloads: unknown[] = [
      { indicator: `203.0.${octet}.${i % 250}` },
      { indicator: [`198.51.100.${octet}`, `hxxp://bad${i}[.]example/x`, `user${i}@example.org`] },
      { indicator: `not an indicator ${i}` },
      { indicator: 'x'.repeat(10_000 + (i % 100)) },
      // fail_on_error off: a garbage answer is then reported in the outputs, not as a failed run (502).
      { indicator: `192.0.2.${octet}`, sources: 'internetdb', force_refresh: true, fail_on_error: false },
    ]
    const res = await app.inject({
      method: 'POST',
      url: '/run',
      payload: payloads[i % payloads.length] as Record<string, unknown>,
    })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
  }
  const runBatch = async (from: number, to: number): Promise<void> => {
    // Ten at a time, like a few busy playbooks.
    for (let i = from; i < to; i += 10)
      await Promise.all(Array.from({ length: Math.min(10, to - i) }, (_, k) => call(i + k)))
  }

  await runBatch(0, WARM_UP)
  logs.length = 0 // the test's own log capture would otherwise grow with the calls
  const before = await heapAfterGc()
  await runBatch(WARM_UP, SOAK)
  logs.length = 0
  const after = await heapAfterGc()
  const growth = after - before
  t.comment(
    `heapUsed after GC: ${(before / 1048576).toFixed(1)} MB after ${WARM_UP} calls, ${(after / 1048576).toFixed(1)} MB after ${SOAK} (growth ${(growth / 1024).toFixed(0)} KB)`,
  )
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok(
    growth < MAX_GROWTH_BYTES,
    `heap grew ${(growth / 1024).toFixed(0)} KB over ${SOAK - WARM_UP} calls (limit ${MAX_GROWTH_BYTES / 1024} KB)`,
  )
  t.same([...statuses.keys()].sort(), [200, 400], 'only answers and input errors, never a 5xx')
  t.ok(vendor.requests.length > 500, 'the vendor path really ran')
  t.same(unhandled.map(String), [], 'no unhandled rejections')
})
