/**
 * `npm run alerts [-- --dry-run]`: every polling service once (the watchlist rules, a plugin's), then everything
 * pending in the outbox delivered at once (no group wait: the run is the group), then exit 0 (all ok), 1 (nothing
 * could be done) or 3 (partly). `--dry-run` prints the messages it would send and changes nothing. The last line is
 * a JSON summary.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { openJobContext, type ProcessContext } from '../context/process-context.js'
import { loadAlertConfig } from './config.js'
import { openAlertWorker } from './open.js'
import type { DeliveryReport, PollReport, Worker } from './worker.js'

const ALERT_EXIT_CODES = { ok: 0, failed: 1, partial: 3 } as const

export interface AlertsRunResult {
  readonly exitCode: number
  readonly summaryLine: string
}

export interface AlertsRunOptions {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly root: string
  readonly dryRun: boolean
  /** Progress and dry-run messages. */
  readonly print: (text: string) => void
  readonly now?: () => number
}

/** 0: nothing failed; 1: something failed and nothing succeeded; 3: some of each. */
const alertsExitCode = (polls: readonly PollReport[], deliveries: readonly DeliveryReport[]): number => {
  const failed =
    polls.filter((p) => p.error !== undefined).length +
    deliveries.filter((d) => d.outcome === 'retry' || d.outcome === 'dead' || d.outcome === 'waiting').length
  const succeeded =
    polls.filter((p) => p.error === undefined).length +
    deliveries.filter((d) => d.outcome === 'sent' || d.outcome === 'dry_run' || d.outcome === 'silenced').length
  if (failed === 0) return ALERT_EXIT_CODES.ok
  return succeeded === 0 ? ALERT_EXIT_CODES.failed : ALERT_EXIT_CODES.partial
}

const failed = (why: string): AlertsRunResult => ({
  exitCode: ALERT_EXIT_CODES.failed,
  summaryLine: JSON.stringify({ status: 'failed', error: why }),
})

export const runAlertsOnce = async (options: AlertsRunOptions): Promise<AlertsRunResult> => {
  let config
  try {
    config = await loadAlertConfig(options.env, options.root)
  } catch (err) {
    return failed((err as Error).message)
  }
  if (config === undefined) return failed('ALERTS_CONFIG is not set: nothing to run (docs/user-guide.md, "Alerts")')
  let context: ProcessContext
  let alerts: Worker
  try {
    context = await openJobContext(options.env, 'tc-enrich-alerts/1.0')
  } catch (err) {
    return failed((err as Error).message)
  }
  try {
    alerts = await openAlertWorker({
      config,
      env: options.env,
      root: options.root,
      context,
      product: 'tc-enrich',
      ...(options.now ? { now: options.now } : {}),
    })
  } catch (err) {
    await context.close()
    return failed((err as Error).message)
  }
  try {
    const polls = await alerts.poll({ dryRun: options.dryRun })
    for (const p of polls) {
      options.print(
        p.error !== undefined
          ? `rule ${p.rule}: failed: ${p.error}`
          : `rule ${p.rule}: ${p.found} found, ${p.added} new`,
      )
      for (const line of p.preview ?? []) options.print(`  would raise: ${line}`)
    }
    let deliveries: DeliveryReport[] = []
    // A Slack channel takes one message a second: a run waits for its pacing a few times rather than leave it pending.
    for (let round = 0; round < 5; round++) {
      const reports = await alerts.deliverDue({ flush: true, dryRun: options.dryRun, print: options.print })
      deliveries = [...deliveries.filter((d) => d.outcome !== 'waiting'), ...reports]
      const waits = reports.filter((r) => r.outcome === 'waiting')
      if (waits.length === 0) break
      await sleep(1_100)
    }
    for (const d of deliveries)
      if (d.outcome !== 'dry_run')
        options.print(`${d.destination}: ${d.outcome} (${d.alerts} alert${d.alerts === 1 ? '' : 's'}): ${d.detail}`)
    const listing = await alerts.outbox.list({ limit: 0 })
    const exitCode = alertsExitCode(polls, deliveries)
    const count = (o: DeliveryReport['outcome']) => deliveries.filter((d) => d.outcome === o).length
    const summary = {
      status: exitCode === 0 ? 'ok' : exitCode === 1 ? 'failed' : 'partial',
      dryRun: options.dryRun,
      polls,
      messages: {
        sent: count('sent'),
        retry: count('retry'),
        dead: count('dead'),
        waiting: count('waiting'),
        dryRun: count('dry_run'),
        silenced: count('silenced'),
      },
      outbox: listing.counts,
    }
    return { exitCode, summaryLine: JSON.stringify(summary) }
  } finally {
    await alerts.close()
    await context.close()
  }
}
