/**
 * `npm run feed [-- --feed <id>] [-- --dry-run]`: runs the enabled feeds (FEEDS) once into the ThreatConnect owner
 * (TC_OWNER) and exits 0 (all ok), 1 (failed) or 3 (partly failed); the last line is the JSON summary. With
 * ALERTS_CONFIG, the newly added indicators go to the alert service's `feed` rules (into its outbox).
 */
import { loadAlertConfig } from './alerts/config.js'
import type { StandaloneAlerts } from './alerts/run-once.js'
import { findProjectRoot } from './contract/project-root.js'
import { runFeedJob } from './feed-job/job.js'

const args = process.argv.slice(2)
const feedAt = args.indexOf('--feed')
const only = feedAt >= 0 ? args[feedAt + 1] : undefined
if (feedAt >= 0 && (only === undefined || only.startsWith('--'))) {
  process.stderr.write('--feed needs a feed id, e.g. --feed urlhaus\n')
  process.exit(1)
}
const dryRun = args.includes('--dry-run')
let alerts: StandaloneAlerts | undefined
try {
  const config = dryRun ? undefined : await loadAlertConfig(process.env, findProjectRoot())
  // Loaded only with ALERTS_CONFIG: a feed run without alerts does not pay for the notifiers.
  if (config !== undefined) alerts = await (await import('./alerts/run-once.js')).openStandaloneAlerts({ config, env: process.env, root: findProjectRoot() })
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n(see docs/user-guide.md, "Alerts")\n`)
  process.exit(1)
}
try {
  const result = await runFeedJob({
    ...(only !== undefined ? { only } : {}),
    dryRun,
    env: process.env,
    log: (line) => process.stdout.write(`${line}\n`),
    ...(alerts !== undefined ? { onAdded: async (feed: string, items: readonly { type: string; summary: string; rating: number; confidence: number; tags: readonly string[] }[]) => void (await alerts?.service.observeFeed({ feed, items })) } : {}),
  })
  process.stdout.write(`${result.summaryLine}\n`)
  process.exitCode = result.exitCode
} finally {
  await alerts?.close()
}
