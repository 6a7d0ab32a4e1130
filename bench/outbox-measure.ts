/**
 * `npm run bench:outbox`: what one change to the file outbox costs as it fills (1,000, 10,000, 30,000 entries), and
 * what a delivery round's scan of it costs (nearly every entry sent, as an outbox is after a while). A measurement,
 * printed; it lives with the benchmarks, not the tests.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createOutbox } from '../src/alerts/outbox.js'
import { openFileEntryStore } from '../src/alerts/outbox-file.js'
import type { Alert } from '../src/alerts/types.js'

const SIZES = [1_000, 10_000, 30_000]
const SAMPLES = 50

const alert = (i: number): Alert => ({
  ruleId: 'soc-malicious',
  service: 'verdict',
  indicator: { type: 'Host', value: `h${i}.evil.test` },
  verdict: 'malicious',
  reason: 'virustotal: malicious; abuseipdb: malicious',
  tags: ['c2'],
  observedAt: new Date().toISOString(),
})

const main = async (): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-measure-'))
  const path = join(dir, 'outbox.jsonl')
  const outbox = createOutbox(openFileEntryStore(path))
  const destination = { kind: 'email' as const, target: 'soc@example.com' }
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
      process.stdout.write(
        `${size.toLocaleString('en')} entries (${(statSync(path).size / 1e6).toFixed(1)} MB): one add p50 ${times[SAMPLES / 2]?.toFixed(2)} ms, p95 ${times[Math.floor(SAMPLES * 0.95)]?.toFixed(2)} ms; due() ${scanMs.toFixed(0)} ms (${due.length} due); RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB\n`,
      )
    }
  } finally {
    await outbox.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
