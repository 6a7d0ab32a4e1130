/** Entry point: settings from the environment, one app instance, listen; stop cleanly on SIGTERM/SIGINT. */
import { buildApp } from './app.js'
import { ConfigError, loadServiceConfig, runAuthWarning } from './config/env.js'
import { SOURCE_DEFINITIONS } from './sources/registry.js'

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
  const app = await buildApp({ config })
  const openWarning = runAuthWarning(config)
  if (openWarning !== undefined) app.log.warn(openWarning)
  // One deadline covers a whole run (sources and write-back); past it and 5 s to answer, something is stuck.
  const graceMs = config.runTimeoutMs + 5_000
  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    app.log.info({ signal, graceMs }, 'stopping: no new connections, finishing the requests in flight')
    const force = setTimeout(() => {
      app.log.error({ graceMs }, 'requests still in flight after the grace period; exiting anyway')
      process.exit(1)
    }, graceMs)
    force.unref()
    try {
      // Closes the listener and idle keep-alive connections, waits for requests in flight (their write-backs
      // included), and only then closes the sources.
      await app.close()
      app.log.info('stopped')
      process.exitCode = 0
    } catch (err) {
      app.log.error({ err }, 'error while stopping')
      process.exitCode = 1
    }
    clearTimeout(force)
    // Let pino flush, then leave even if a stray handle (e.g. a socket a vendor keeps open) would hold the process.
    setImmediate(() => process.exit())
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
  await app.listen({ host: config.host, port: config.port })
}

main().catch((err: unknown) => {
  process.stderr.write(`the service could not start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
