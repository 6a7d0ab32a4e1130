/**
 * `npm run feed [-- --feed <id>] [-- --dry-run]`: runs the enabled feeds (FEEDS) once into the ThreatConnect owner
 * (TC_OWNER) and exits 0 (all ok), 1 (failed) or 3 (partly failed); the last line is the JSON summary. With
 * ALERTS_CONFIG, the newly added indicators go to the alert worker's `feed` rules (into its outbox). The feed job
 * and the alert service share one context: one Redis connection, one metrics registry, one logger.
 */
import { loadAlertConfig } from './alerts/config.js'
import type { Worker } from './alerts/worker.js'
import { findProjectRoot } from './contract/project-root.js'
import { openJobContext } from './context/process-context.js'
import { runFeedJob } from './feed-job/job.js'

const args = process.argv.slice(2)
const feedAt = args.indexOf('--feed')
const only = feedAt >= 0 ? args[feedAt + 1] : undefined
if (feedAt >= 0 && (only === undefined || only.startsWith('--'))) {
  process.stderr.write('--feed needs a feed id, e.g. --feed urlhaus\n')
  process.exit(1)
}
const dryRun = args.includes('--dry-run')
const root = findProjectRoot()
let alertConfig
try {
  alertConfig = dryRun ? undefined : await loadAlertConfig(process.env, root)
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n(see docs/user-guide.md, "Alerts")\n`)
  process.exit(1)
}
const context = await openJobContext(process.env, 'tc-enrich-feed-job/1.0')
let alerts: Worker | undefined
try {
  // Loaded only with ALERTS_CONFIG: a feed run without alerts does not pay for the notifiers.
  if (alertConfig !== undefined) {
    const { openAlertWorker } = await import('./alerts/open.js')
    alerts = await openAlertWorker({ config: alertConfig, env: process.env, root, context, product: 'tc-enrich' })
  }
  const result = await runFeedJob({
    context,
    ...(only !== undefined ? { only } : {}),
    dryRun,
    env: process.env,
    log: (line) => process.stdout.write(`${line}\n`),
    terminal: process.stderr.isTTY ? process.stderr : undefined,
    ...(alerts !== undefined
      ? { onAdded: async (feed, items) => void (await alerts?.observeFeed({ feed, items })) }
      : {}),
  })
  process.stdout.write(`${result.summaryLine}\n`)
  process.exitCode = result.exitCode
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`)
  process.exitCode = 1
} finally {
  await alerts?.close()
  await context.close()
}
