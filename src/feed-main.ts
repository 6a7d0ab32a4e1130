/**
 * `npm run feed [-- --feed <id>] [-- --dry-run]`: runs the enabled feeds (FEEDS) once into the ThreatConnect owner
 * (TC_OWNER) and exits 0 (all ok), 1 (failed) or 3 (partly failed); the last line is the JSON summary.
 */
import { runFeedJob } from './feed-job/job.js'

const args = process.argv.slice(2)
const feedAt = args.indexOf('--feed')
const only = feedAt >= 0 ? args[feedAt + 1] : undefined
if (feedAt >= 0 && (only === undefined || only.startsWith('--'))) {
  process.stderr.write('--feed needs a feed id, e.g. --feed urlhaus\n')
  process.exit(1)
}
const result = await runFeedJob({
  ...(only !== undefined ? { only } : {}),
  dryRun: args.includes('--dry-run'),
  env: process.env,
  log: (line) => process.stdout.write(`${line}\n`),
})
process.stdout.write(`${result.summaryLine}\n`)
process.exitCode = result.exitCode
