/**
 * Entry point: settings from the environment, one app instance, listen; close gracefully on SIGTERM/SIGINT
 * (close-with-grace).
 */
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadServiceConfig, runAuthWarning } from './config/env.js'
import { SOURCE_DEFINITIONS } from './sources/registry.js'
import type { FastifyInstance } from 'fastify'
import { loadAlertConfig, type AlertConfig } from './alerts/config.js'
import { AlertConfigError } from './alerts/rules.js'
import { findProjectRoot } from './contract/project-root.js'

const main = async (): Promise<void> => {
  let config
  try {
    config = loadServiceConfig(process.env, SOURCE_DEFINITIONS)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n(see docs/user-guide.md, "Settings")\n`)
      process.exit(2)
    }
    throw err
  }
  // ALERTS_CONFIG: the alert service runs inside the service (verdict rules hear /run; polling on ALERTS_SCHEDULE).
  let alertConfig: AlertConfig | undefined
  try {
    alertConfig = await loadAlertConfig(process.env, findProjectRoot())
  } catch (err) {
    process.stderr.write(`${(err as Error).message}
(see docs/user-guide.md, "Alerts")
`)
    process.exit(2)
  }
  // FEED_SCHEDULE: the feed job runs beside the service, on its cron, one run at a time.
  let app: FastifyInstance
  try {
    app = await buildApp({
      config,
      feeds: { schedule: process.env['FEED_SCHEDULE'], env: process.env },
      ...(alertConfig !== undefined ? { alerts: { config: alertConfig, env: process.env } } : {}),
    })
  } catch (err) {
    if ((err as Error).message.startsWith('FEED_SCHEDULE')) {
      process.stderr.write(`${(err as Error).message}\n(see docs/user-guide.md, "The feed job")\n`)
      process.exit(2)
    }
    // A notifier that cannot connect, a destination it refuses: named with its rule, every one at once.
    if (err instanceof AlertConfigError) {
      process.stderr.write(`${err.message}\n(see docs/user-guide.md, "Alerts")\n`)
      process.exit(2)
    }
    throw err
  }
  const started = app
  const openWarning = runAuthWarning(config)
  if (openWarning !== undefined) started.log.warn(openWarning)
  // One deadline covers a whole run (sources and write-back); past it and 5 s to answer, something is stuck.
  const graceMs = config.runTimeoutMs + 5_000
  // On SIGTERM/SIGINT, or an uncaught error (logged at fatal), close gracefully: no new connections, the runs in
  // flight finish (their write-backs included), then the sources close. Past the grace, exit 1 anyway.
  closeWithGrace(
    { delay: graceMs, logger: { error: (message: unknown) => started.log.error({ graceMs }, String(message)) } },
    async ({ signal, err }) => {
      if (err !== undefined) started.log.fatal({ err }, 'uncaught error; closing')
      else started.log.info({ signal, graceMs }, 'stopping: no new connections, finishing the requests in flight')
      await started.close()
      started.log.info('stopped')
    },
  )
  await started.listen({ host: config.host, port: config.port })
}

main().catch((err: unknown) => {
  process.stderr.write(`the service could not start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
