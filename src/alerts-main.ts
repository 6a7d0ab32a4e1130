/**
 * `npm run alerts [-- --dry-run]`: runs every polling alert service once, delivers what is pending, and exits 0 (ok),
 * 1 (failed) or 3 (partly); the last line is the JSON summary. See src/alerts/run-once.ts.
 */
import { findProjectRoot } from './contract/project-root.js'
import { runAlertsOnce } from './alerts/run-once.js'

const args = process.argv.slice(2)
const unknown = args.filter((a) => a !== '--dry-run')
if (unknown.length > 0) {
  process.stderr.write(`unknown argument ${unknown.map((a) => `'${a}'`).join(', ')} (npm run alerts [-- --dry-run])\n`)
  process.exit(1)
}
const result = await runAlertsOnce({
  env: process.env,
  root: findProjectRoot(),
  dryRun: args.includes('--dry-run'),
  print: (text) => process.stdout.write(`${text}\n`),
})
process.stdout.write(`${result.summaryLine}\n`)
process.exitCode = result.exitCode
