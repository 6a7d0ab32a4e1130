/**
 * `npm run bench:outbox`: what the SQLite outbox costs as it fills (1,000, 10,000, 30,000 entries, nearly all sent, as
 * an outbox is after a while): one add, a delivery round's look at what is due, and the memory of a process that
 * opens it (as the service, `npm run alerts` and `npm run feed` each do) over one that opens an empty outbox. The
 * goal: under 20 MB more at 30,000 entries, flat in the number of entries. Each opener is a fresh process, measured
 * after a delivery round and the counts (what /health reads). A measurement, printed; it lives with the benchmarks.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Alert } from '../src/alerts/api.js'
import { createOutbox } from '../src/alerts/outbox.js'
import { openSqliteEntryStore } from '../src/alerts/outbox-sqlite.js'

const SIZES = [1_000, 10_000, 30_000]
const SAMPLES = 50
const MB = 1024 * 1024

const alert = (i: number): Alert => ({
  id: `a${i}`,
  rule: 'soc-malicious',
  service: 'verdict',
  type: 'verdict',
  indicator: { type: 'Host', value: `h${i}.evil.test` },
  verdict: 'malicious',
  reason: 'virustotal: malicious; abuseipdb: malicious',
  tags: ['c2'],
  observedAt: new Date().toISOString(),
})

const destination = { kind: 'email', target: 'soc@example.com', settings: 'soc@example.com' }

/** In a fresh process: open the outbox, a delivery round's due(), the counts; answers the RSS in MB. */
const openerRss = (path: string): number => {
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--open', path], {
    encoding: 'utf8',
  })
  if (child.status !== 0) throw new Error(`the opener failed: ${child.stderr}`)
  return Number(child.stdout.trim())
}

const open = async (path: string): Promise<void> => {
  const outbox = createOutbox(openSqliteEntryStore(path))
  await outbox.due(Date.now())
  await outbox.list({ limit: 100 })
  global.gc?.()
  process.stdout.write(`${process.memoryUsage().rss / MB}\n`)
  await outbox.close()
}

const main = async (): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-measure-'))
  const path = join(dir, 'outbox.db')
  const outbox = createOutbox(openSqliteEntryStore(path))
  await outbox.due(Date.now())
  const emptyRss = openerRss(path)
  const lines = [`a process opening an empty outbox: RSS ${emptyRss.toFixed(1)} MB`]
  const sizes: Array<{ entries: number; overEmptyMb: number; addP50Ms: number; dueMs: number }> = []
  let filled = 0
  try {
    for (const size of SIZES) {
      // As an outbox is over time: nearly everything sent, a few pending.
      while (filled < size) {
        const batch = Array.from({ length: 1_000 }, (_, j) => ({
          key: `k${filled + j}`,
          destination,
          alert: alert(filled + j),
        }))
        await outbox.add(batch, Date.now())
        const claimed = await outbox.claim(
          batch.map((e) => e.key),
          Date.now(),
          Date.now() + 60_000,
          `m${filled}`,
        )
        await outbox.settle(claimed, { state: 'sent', at: Date.now(), receipt: 'm', groupSize: 1 })
        filled += batch.length
      }
      const times: number[] = []
      for (let i = 0; i < SAMPLES; i++) {
        const t0 = performance.now()
        await outbox.add([{ key: `one-${size}-${i}`, destination, alert: alert(i) }], Date.now())
        times.push(performance.now() - t0)
      }
      filled += SAMPLES
      times.sort((a, b) => a - b)
      const t1 = performance.now()
      const due = await outbox.due(Date.now())
      const scanMs = performance.now() - t1
      const rss = openerRss(path)
      sizes.push({ entries: size, overEmptyMb: rss - emptyRss, addP50Ms: times[SAMPLES / 2] ?? NaN, dueMs: scanMs })
      lines.push(
        `${size.toLocaleString('en')} entries (${(statSync(path).size / 1e6).toFixed(1)} MB on disk): one add p50 ${times[SAMPLES / 2]?.toFixed(2)} ms, p95 ${times[Math.floor(SAMPLES * 0.95)]?.toFixed(2)} ms; due() ${scanMs.toFixed(1)} ms (${due.length} due); an opener's RSS ${rss.toFixed(1)} MB (${(rss - emptyRss).toFixed(1)} MB over empty)`,
      )
    }
  } finally {
    await outbox.close()
    rmSync(dir, { recursive: true, force: true })
  }
  process.stdout.write(`${lines.join('\n')}\n`)
  // For `npm run bench` (scenario 9): the numbers, as the last line.
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ emptyRssMb: emptyRss, sizes })}\n`)
}

const run = process.argv[2] === '--open' ? open(process.argv[3] ?? '') : main()
run.catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
